"""The operators' API refuses what it cannot act on, precisely and before writing anything: values
out of range are 422 (never a server error, on any admin or reconciliation route), places outside
the exchange's topology are 404 and leave no control key behind (issue: fuzzing once wrote ~1,000
pause keys for places that do not exist)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import nats
from fastapi.testclient import TestClient

from shared.messaging.topology import CONTROL_BUCKET, STATUS_BUCKET, bucket_entries
from tests.support.harness import auth, exchange_keys, running, settings_for, wait_until

ORIGIN, HOST, OTHER_HOST, NOWHERE = "371326", "310115", "310112", "440305"
ADMIN = auth("sync_admin")
TOPOLOGY = f"origin:{ORIGIN},host:{HOST}"
HOSTILE = [
    "1" + "0" * 30,
    "-1",
    "0",
    "９９９９９９",  # digits of another script
    "3713%0026",
    "x" * 3000,
    "0001-01-01",
    "9999-12-31",
    NOWHERE,
]
HOSTILE_JSON: list[Any] = [10**30, -1, 0, "\u0000", "x" * 5000, "９９９９９９", None, [], {}, 1.5]


def control_keys(url: str) -> set[str]:
    async def read() -> set[str]:
        nc = await nats.connect(url)
        try:
            return set(await bucket_entries(nc.jetstream(timeout=15), CONTROL_BUCKET))
        finally:
            await nc.close()

    return asyncio.run(read())


def report_status(url: str, service: str, place: str) -> None:
    """A place's heartbeat, as its agent writes it."""

    async def write() -> None:
        nc = await nats.connect(url)
        kv = await (nc.jetstream()).key_value(STATUS_BUCKET)
        status = {"service": service, "place": place, "connected": True, "at": time.time()}
        await kv.put(f"{service}.{place}", json.dumps(status).encode())
        await nc.close()

    asyncio.run(write())


def test_places_outside_the_topology_are_404_and_write_nothing(tmp_path, nats_server) -> None:
    settings = settings_for(
        "sync", f"sqlite:///{tmp_path / 'sync.db'}", nats_server.url, places=TOPOLOGY
    )
    with running("sync", settings) as sync:
        wait_until(lambda: sync.get("/readyz").status_code == 200, message="sync ready")
        refused = {
            f"/admin/links/o2h/{ORIGIN}/{NOWHERE}/pause": "not in the exchange's topology",
            f"/admin/links/o2h/{NOWHERE}/{HOST}/resume": "not in the exchange's topology",
            f"/admin/receivers/o2h/{NOWHERE}/pause": "not in the exchange's topology",
            f"/admin/receivers/h2o/{NOWHERE}/replay": "not in the exchange's topology",
            # Known places on the wrong side of a link: there is no such link.
            f"/admin/links/o2h/{HOST}/{ORIGIN}/pause": "not an origin county",
            f"/admin/receivers/h2o/{HOST}/pause": "not an origin county",
            f"/admin/receivers/o2h/{ORIGIN}/pause": "not a host district",
        }
        for path, why in refused.items():
            body = {"from_sequence": 1} if path.endswith("replay") else {}
            answer = sync.post(path, json=body, headers=ADMIN)
            assert answer.status_code == 404, (path, answer.text)
            error = answer.json()["error"]
            assert error["code"] == "place.unknown" and why in error["message"], error
            assert "nothing was changed" in error["message"]
        unknown_run = sync.post(
            "/admin/antientropy/runs", json={"places": [NOWHERE]}, headers=ADMIN
        )
        assert unknown_run.status_code == 404, unknown_run.text
        assert control_keys(nats_server.url) == set()

        paused = sync.post(f"/admin/links/o2h/{ORIGIN}/{HOST}/pause", json={}, headers=ADMIN)
        assert paused.status_code == 200, paused.text
        assert control_keys(nats_server.url) == {f"pause.inflow.{HOST}.{ORIGIN}"}

        # A place that reports its status is in the topology at once, on its own side only.
        report_status(nats_server.url, "inflow", OTHER_HOST)
        joined = sync.post(f"/admin/receivers/o2h/{OTHER_HOST}/pause", json={}, headers=ADMIN)
        assert joined.status_code == 200, joined.text
        wrong_side = sync.post(f"/admin/receivers/h2o/{OTHER_HOST}/pause", json={}, headers=ADMIN)
        assert wrong_side.status_code == 404
        expected = {ORIGIN: ["outflow"], HOST: ["inflow"], OTHER_HOST: ["inflow"]}
        wait_until(
            lambda: (
                sync.get("/admin/links", headers=auth("auditor")).json()["topology"] == expected
            ),
            message="the reporting place in the topology",
        )
        assert control_keys(nats_server.url) == {
            f"pause.inflow.{HOST}.{ORIGIN}",
            f"pause.inflow.{OTHER_HOST}",
        }


def test_trusted_keys_name_the_places(tmp_path, nats_server) -> None:
    trusted = exchange_keys({ORIGIN: "origin", HOST: "host"})[ORIGIN]["trusted_keys"]
    settings = settings_for(
        "sync", f"sqlite:///{tmp_path / 'sync.db'}", nats_server.url, trusted_keys=trusted
    )
    with running("sync", settings) as sync:
        wait_until(lambda: sync.get("/readyz").status_code == 200, message="sync ready")
        links = sync.get("/admin/links", headers=auth("auditor")).json()
        assert links["topology"] == {ORIGIN: ["outflow"], HOST: ["inflow"]}
        ok = sync.post(f"/admin/links/o2h/{ORIGIN}/{HOST}/pause", json={}, headers=ADMIN)
        assert ok.status_code == 200, ok.text
        nowhere = sync.post(f"/admin/receivers/o2h/{NOWHERE}/pause", json={}, headers=ADMIN)
        assert nowhere.status_code == 404, nowhere.text


def test_values_out_of_range_are_precise_422s(tmp_path, nats_server) -> None:
    settings = settings_for(
        "sync", f"sqlite:///{tmp_path / 'sync.db'}", nats_server.url, places=TOPOLOGY
    )
    with running("sync", settings) as sync:
        wait_until(lambda: sync.get("/readyz").status_code == 200, message="sync ready")

        def refused(method: str, path: str, field: str, **kwargs: Any) -> str:
            answer = sync.request(method, path, headers=ADMIN, **kwargs)
            assert answer.status_code == 422, (path, kwargs, answer.text)
            error = answer.json()["error"]
            assert field in error["message"], error
            return error["message"]

        replay = f"/admin/receivers/o2h/{HOST}/replay"
        message = refused("POST", replay, "from_sequence", json={"from_sequence": 10**30})
        assert "less than or equal to 9223372036854775807" in message
        refused("POST", replay, "from_sequence", json={"from_sequence": 0})
        refused("POST", replay, "allow_gap", json={"from_sequence": 5, "allow_gap": True})
        assert sync.post(f"/admin/receivers/o2h/{HOST}/pause", json={}, headers=ADMIN).is_success
        beyond = sync.post(replay, json={"from_sequence": 10**12}, headers=ADMIN)
        assert beyond.status_code == 422 and beyond.json()["error"]["code"] == (
            "replay.beyond_stream"
        ), beyond.text
        assert "last sequence is 0" in beyond.json()["error"]["message"]

        refused("POST", f"/admin/links/o2h/{ORIGIN}/{HOST}/pause", "reason", json={"reason": "a\0"})
        refused("GET", "/admin/dead-letters/not-a-uuid", "dead_letter_id")
        letter = str(uuid.uuid4())
        refused(
            "POST", f"/admin/dead-letters/{letter}/discard", "reason", json={"reason": "\0\0\0"}
        )
        refused("GET", "/admin/dead-letters?from_place=%EF%BC%93%EF%BC%97", "from_place")
        refused("GET", "/admin/reconciliation?as_of=1999-12-31", "as_of")
        refused("GET", "/admin/reconciliation/mismatches?as_of=2101-01-01", "as_of")
        refused("POST", "/admin/antientropy/runs", "places", json={"places": [ORIGIN] * 501})


def test_no_admin_route_answers_a_server_error_to_hostile_values(
    pg_database_url, nats_server
) -> None:
    """Every admin and reconciliation route, every path, query and body parameter, hostile values
    (huge and negative numbers, other scripts' digits, NUL, long text, far dates, unknown places):
    a 4xx, never 5xx, on PostgreSQL (whose text cannot hold NUL); and no control key is written
    for anything outside the topology."""
    settings = settings_for("sync", pg_database_url, nats_server.url, places=TOPOLOGY)
    with running("sync", settings) as sync:
        wait_until(lambda: sync.get("/readyz").status_code == 200, message="sync ready")
        failures, calls = [], 0
        for path, item in sync.app.openapi()["paths"].items():
            if not path.startswith("/admin/") or path.startswith("/admin/audit"):
                continue
            for method, op in item.items():
                for url, kwargs in _hostile_requests(sync, path, op):
                    calls += 1
                    answer = sync.request(method.upper(), url, headers=ADMIN, **kwargs)
                    if answer.status_code >= 500:
                        failures.append(f"{method} {url} {kwargs} -> {answer.text[:200]}")
        assert calls > 200
        assert not failures, "\n".join(failures[:20])
        for key in control_keys(nats_server.url):  # pause.<service>.<place>[.<from>]
            assert set(key.split(".")[2:]) <= {ORIGIN, HOST}, key


def _hostile_requests(sync: TestClient, path: str, op: dict[str, Any]) -> list[tuple[str, dict]]:
    params = op.get("parameters", [])
    good = {
        p["name"]: (
            str(uuid.uuid4())
            if p["name"].endswith("_id")
            else (ORIGIN if "from" in p["name"] else HOST)
        )
        for p in params
        if p["in"] == "path"
    }
    good |= {p["name"]: "o2h" for p in params if p["name"] == "direction"}

    def url(values: dict[str, str]) -> str:
        out = path
        for name, value in values.items():
            out = out.replace("{" + name + "}", value)
        return out

    body = _example_body(sync, op)
    requests: list[tuple[str, dict]] = [(url(good), {"json": body} if body is not None else {})]
    for param in params:
        for value in HOSTILE:
            if param["in"] == "path":
                requests.append((url(good | {param["name"]: value}), {"json": body or {}}))
            else:
                requests.append((url(good), {"params": {param["name"]: value}}))
    for field in body or {}:
        for value in HOSTILE_JSON:
            requests.append((url(good), {"json": body | {field: value}}))
    return requests


def _example_body(sync: TestClient, op: dict[str, Any]) -> dict[str, Any] | None:
    content = op.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None
    schema = content["schema"]
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = sync.app.openapi()["components"]["schemas"][name]
    examples = schema.get("examples") or [{}]
    first = examples[0] if isinstance(examples, list) else {}

    def valid(prop: dict[str, Any]) -> Any:  # a value the route accepts, so others get tested
        if prop.get("examples"):
            return prop["examples"][0]
        return prop.get("default", "x")

    fields = {name: valid(prop) for name, prop in schema.get("properties", {}).items()}
    return fields | first
