"""Personal data: encrypted at rest (event store and read models), masked in lists, in full only
for the operator of the place holding the member, and every full read in the audit trail."""

from __future__ import annotations

import base64
import json
import os
import random
import re
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.security.routes import operations
from tests.security.storage import found, postgres_dump, sqlite_files
from tests.support.backends import NatsServer, drop_schema
from tests.support.factories import departure_body, member_body
from tests.support.harness import auth, running, settings_for, wait_until

ORIGIN, HOST = "371326", "310115"


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@contextmanager
def pair(
    urls: dict[str, str], nats_url: str, cipher: bool = True
) -> Iterator[dict[str, TestClient]]:
    extra: dict[str, Any] = {}
    with ExitStack() as stack:
        out = stack.enter_context(
            running(
                "outflow",
                settings_for(
                    "outflow",
                    urls["outflow"],
                    nats_url,
                    ORIGIN,
                    cipher_key=_key() if cipher else "",
                    **extra,
                ),
            )
        )
        host = stack.enter_context(
            running(
                "inflow",
                settings_for(
                    "inflow",
                    urls["inflow"],
                    nats_url,
                    HOST,
                    cipher_key=_key() if cipher else "",
                    **extra,
                ),
            )
        )
        yield {"outflow": out, "inflow": host}


def register_and_depart(services: dict[str, TestClient], seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    person = member_body(rng, ORIGIN)
    o_auth = auth("origin_operator", ORIGIN)
    created = services["outflow"].post("/api/v1/members", json=person, headers=o_auth)
    assert created.status_code == 201, created.text
    member_id = created.json()["member_id"]
    leaving = departure_body(HOST, rng)
    departed = services["outflow"].post(
        f"/api/v1/members/{member_id}/departures", json=leaving, headers=o_auth
    )
    assert departed.status_code == 201, departed.text
    items = wait_until(
        lambda: (
            services["inflow"]
            .get("/api/v1/members", headers=auth("host_operator", HOST))
            .json()["items"]
        ),
        message="arrival expected at the host",
    )
    return {**person, **leaving, "member_id": member_id, "hosted_id": items[0]["member_id"]}


def needles(person: dict[str, Any]) -> dict[str, str]:
    return {
        "resident id": person["resident_id"],
        "phone": person["phone"],
        "household address": person["household_address"],
        "host address": person["host_address"],
    }


def test_full_values_only_for_the_holding_places_operator_and_every_read_audited(
    tmp_path: Path, nats_server: NatsServer
) -> None:
    urls = {k: f"sqlite:///{tmp_path}/{k}.db" for k in ("outflow", "inflow")}
    with pair(urls, nats_server.url) as services:
        person = register_and_depart(services, seed=11)
        out, host = services["outflow"], services["inflow"]
        member, hosted = person["member_id"], person["hosted_id"]

        # Lists and summaries: masked, never the full values.
        listing = out.get("/api/v1/members", headers=auth("origin_operator", ORIGIN)).text
        summary = host.get(f"/api/v1/members/{hosted}", headers=auth("auditor")).text
        for text in (listing, summary):
            assert not found(needles(person), text.encode()), text
        masked = out.get("/api/v1/members", headers=auth("auditor")).json()["items"][0]
        assert re.fullmatch(r"3713\*{10}\d{3}[\dX]", masked["resident_id_masked"])
        assert masked["resident_id_masked"][-4:] == person["resident_id"][-4:]

        # Full values: the origin for its own member, the host for the member it hosts.
        full = out.get(
            f"/api/v1/members/{member}/personal-data", headers=auth("origin_operator", ORIGIN)
        )
        assert full.status_code == 200, full.text
        assert full.json()["resident_id"] == person["resident_id"]
        assert full.json()["phone"] == person["phone"]
        assert full.headers["cache-control"] == "no-store"
        for member_ref in (hosted, member):  # the host's record id or the origin's member id
            at_host = host.get(
                f"/api/v1/members/{member_ref}/personal-data", headers=auth("host_operator", HOST)
            )
            assert at_host.status_code == 200, at_host.text
            assert at_host.json()["phone"] == person["phone"]

        # Everyone else: refused.
        refused = {
            ("outflow", "auditor", "*"): "auth.forbidden",
            ("outflow", "sync_admin", "*"): "auth.forbidden",
            ("outflow", "origin_operator", "370303"): "auth.wrong_place",
            ("outflow", "host_operator", HOST): "auth.forbidden",
            ("inflow", "host_operator", "310112"): "auth.wrong_place",
            ("inflow", "origin_operator", ORIGIN): "auth.forbidden",
            ("inflow", "auditor", "*"): "auth.forbidden",
        }
        for (service, role, place), code in refused.items():
            ref = member if service == "outflow" else hosted
            answer = services[service].get(
                f"/api/v1/members/{ref}/personal-data", headers=auth(role, place)
            )
            assert answer.status_code == 403, (service, role, place, answer.text)
            assert answer.json()["error"]["code"] == code
            assert person["phone"] not in answer.text

        # The audit trail: each full read, and the refused attempts, with who and from where.
        trail = out.get("/api/v1/audit?action=personal_data.read", headers=auth("auditor")).json()[
            "items"
        ]
        granted = [e for e in trail if e["status"] == 200]
        assert len(granted) == 1 and granted[0]["member_id"] == member
        assert granted[0]["role"] == "origin_operator" and granted[0]["actor_place"] == ORIGIN
        assert {e["status"] for e in trail} == {200, 403}
        host_trail = host.get(
            f"/api/v1/audit?member_id={hosted}&action=personal_data.read",
            headers=auth("host_operator", HOST),
        ).json()
        assert host_trail["total"] >= 2
        writes = out.get(
            "/api/v1/audit?action=POST /api/v1/members", headers=auth("auditor")
        ).json()["items"]
        assert writes and writes[0]["status"] == 201 and writes[0]["subject"]
        assert (
            out.get("/api/v1/audit", headers=auth("origin_operator", "370303")).status_code == 403
        )
        assert not found(needles(person), out.get("/api/v1/audit", headers=auth("auditor")).content)


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_no_plaintext_id_number_phone_or_address_at_rest(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, nats_server: NatsServer
) -> None:
    if backend == "postgres":
        base = request.getfixturevalue("pg_database_url")
        root, schema = base.split("?")[0], base.split("schema=")[1]
        schemas = {k: f"{schema}_{k[0]}" for k in ("outflow", "inflow")}
        urls = {k: f"{root}?schema={s}" for k, s in schemas.items()}
    else:
        urls = {k: f"sqlite:///{tmp_path}/{k}.db" for k in ("outflow", "inflow")}

    def raw(service: str) -> bytes:
        if backend == "postgres":
            return postgres_dump(root, schemas[service])
        return sqlite_files(tmp_path / f"{service}.db")

    try:
        with pair(urls, nats_server.url) as services:
            person = register_and_depart(services, seed=23)
            wait_until(
                lambda: (
                    services["outflow"]
                    .get(
                        f"/api/v1/members/{person['member_id']}",
                        headers=auth("origin_operator", ORIGIN),
                    )
                    .json()["host_place"]
                    == HOST
                ),
                message="departure projected",
            )
            during = {s: raw(s) for s in services}
        after = {s: raw(s) for s in services}
        for service in services:
            for moment, dump in (("while running", during), ("after stop", after)):
                assert len(dump[service]) > 300, "the dump sees the store"
                assert person["resident_id"][-4:].encode() in dump[service]  # the masked value
                hits = found(needles(person), dump[service])
                assert not hits, f"{service} {moment}: plaintext {hits} at rest ({backend})"
    finally:
        if backend == "postgres":
            for s in schemas.values():
                drop_schema(root, s)


def test_without_a_cipher_key_the_same_search_finds_the_plaintext(
    tmp_path: Path, nats_server: NatsServer
) -> None:
    """The control: the search above can fail."""
    urls = {k: f"sqlite:///{tmp_path}/{k}.db" for k in ("outflow", "inflow")}
    with pair(urls, nats_server.url, cipher=False) as services:
        person = register_and_depart(services, seed=31)
    hits = found(needles(person), sqlite_files(tmp_path / "outflow.db"))
    assert {"resident id", "phone"} <= set(hits)


def _walk_url(op: Any, ids: dict[str, str]) -> str:
    url = op.path
    for param in op.parameters:
        if param.get("in") == "path":
            value = ids.get(param["name"]) or QUERY_SAMPLES.get(param["name"], str(uuid.uuid4()))
            url = url.replace("{" + param["name"] + "}", value)
    query = {
        p["name"]: QUERY_SAMPLES[p["name"]]
        for p in op.parameters
        if p.get("required") and p.get("in") == "query"
    }
    if op.path.endswith("/as-of"):
        query["on"] = "2026-12-31"
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


QUERY_SAMPLES = {"year": "2026"}


def test_auditors_see_no_name_id_number_or_phone_on_any_route(
    tmp_path: Path, nats_server: NatsServer
) -> None:
    """One masking rule for every view: walks every GET of both place services as an auditor
    (with the member's real ids) after a registration, a departure and a name correction."""
    urls = {k: f"sqlite:///{tmp_path}/{k}.db" for k in ("outflow", "inflow")}
    with pair(urls, nats_server.url) as services:
        person = register_and_depart(services, seed=41)
        out, host = services["outflow"], services["inflow"]
        o_auth, h_auth = auth("origin_operator", ORIGIN), auth("host_operator", HOST)
        corrected = {"name": "欧阳明月", "phone": "13611112222"}
        answer = out.patch(f"/api/v1/members/{person['member_id']}", json=corrected, headers=o_auth)
        assert answer.status_code == 200, answer.text
        wait_until(
            lambda: any(
                i["name"] == corrected["name"]
                for i in host.get("/api/v1/members", headers=h_auth).json()["items"]
            ),
            message="the correction reaches the host",
        )
        secrets = needles(person) | {
            "name": person["name"],
            "corrected name": corrected["name"],
            "corrected phone": corrected["phone"],
        }
        # The control: the operator's own timeline names the member (the walk can fail).
        own = out.get(f"/api/v1/members/{person['member_id']}/timeline", headers=o_auth)
        assert person["name"] in own.text and corrected["name"] in own.text
        walked: dict[str, int] = {}
        for kind, client in services.items():
            ids = {"member_id": person["member_id" if kind == "outflow" else "hosted_id"]}
            for op in operations(client.app):
                if op.method != "GET" or op.path.endswith("/personal-data"):
                    continue
                response = client.get(_walk_url(op, ids), headers=auth("auditor"))
                walked[f"{kind} {op.path}"] = response.status_code
                body = response.content + json.dumps(response.text).encode()
                leaks = found(secrets, body)
                assert not leaks, f"{kind} {op.path} shows an auditor {leaks}: {response.text}"
        shown = ("", "/timeline", "/as-of")
        must = [f"outflow /api/v1/members/{{member_id}}{x}" for x in shown]
        must.append("inflow /api/v1/members/{member_id}")
        assert {walked[k] for k in must} == {200}, walked
        assert max(walked.values()) < 500, walked
