"""A poison event halts one read model, never the place (issue 9, defence in depth).

The poison is saved through the application directly, past the HTTP bounds, as an event stored
before those bounds existed would be: a fund contribution of 10**20 fen, which no 64-bit column
(PostgreSQL BIGINT, SQLite INTEGER) can hold. On PostgreSQL and on SQLite: writes keep answering
2xx (saying the read model is behind), the other read models stay current, `/readyz` says
degraded and why, the admin endpoint shows the failure at its position, the service restarts,
and an operator resumes it by skipping (with an audit record) and rebuilds it from zero.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from liangdi_cli.supervisor import readyz
from services.inflow.domain.assistance import AssistanceRequest
from services.outflow.domain.arrivals import UnannouncedArrival
from shared.eventstore import sqlalchemy_engine
from tests.support.factories import departure_body, member_body
from tests.support.harness import auth, running, settings_for, wait_until

ORIGIN, HOST = "371326", "310115"
OPERATOR, AUDITOR = auth("origin_operator", ORIGIN), auth("auditor")
HOST_OPERATOR = auth("host_operator", HOST)
POISON = 10**20


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'place.db'}"
    return request.getfixturevalue("pg_database_url")


def place(kind: str, database_url: str) -> Any:
    code = ORIGIN if kind == "outflow" else HOST
    return settings_for(kind, database_url, "nats://127.0.0.1:1", code, sync_enabled=False)


def read_model(c: TestClient, name: str, headers: dict[str, str] = AUDITOR) -> dict[str, Any]:
    r = c.get("/admin/read-models", headers=headers)
    assert r.status_code == 200, r.text
    return next(m for m in r.json()["read_models"] if m["name"] == name)


def member_ids(c: TestClient) -> set[str]:
    return {m["member_id"] for m in listed(c).json()["items"]}


def listed(c: TestClient) -> Any:
    r = c.get("/api/v1/members", params={"limit": 200}, headers=OPERATOR)
    assert r.status_code == 200, r.text
    return r


def behind(response: Any) -> str | None:
    """The read models a response says were behind it (None: none was)."""
    if "X-Liangdi-Read-Model" not in response.headers:
        return None
    assert response.headers["X-Liangdi-Read-Model"] == "behind"
    return response.headers["X-Liangdi-Read-Models-Behind"]


def register(c: TestClient, rng: random.Random) -> Any:
    return c.post("/api/v1/members", json=member_body(rng), headers=OPERATOR)


def contribute(c: TestClient, amount: int) -> Any:
    body = {"amount_fen": amount, "contributor": "县委组织部", "received_on": "2026-03-01"}
    key = {"Idempotency-Key": f"isolation-{uuid.uuid4().hex}"}
    return c.post("/api/v1/fund/contributions", json=body, headers=OPERATOR | key)


def poison_the_fund(c: TestClient) -> None:
    """A contribution the domain's bounds would refuse today, stored as an old event would be."""
    app = c.app.state.runtime.app  # type: ignore[attr-defined]
    fund = app.fund()
    fund._contributed(  # the event itself, past the checks of `contribute`
        amount_fen=POISON, contributor="旧数据", received_on=date(2026, 3, 2), recorded_by="t"
    )
    app.save(fund)


def halted_at(c: TestClient, name: str) -> dict[str, Any]:
    model = wait_until(
        lambda: (m := read_model(c, name))["state"] == "halted" and m,
        timeout=10,
        message=f"{name} halted",
    )
    return model["failure"]


def test_a_poison_event_halts_one_read_model_and_never_the_place(database_url: str) -> None:
    settings, rng = place("outflow", database_url), random.Random(9)
    with running("outflow", settings) as c:
        assert contribute(c, 500).status_code == 201
        current = register(c, rng)
        assert current.status_code == 201 and behind(current) is None
        first = current.json()["member_id"]
        assert behind(listed(c)) is None
        poison_the_fund(c)

        # A stored write is answered 2xx, never 4xx/5xx (writes do not wait for read models);
        # a read says which read model is behind it; the other read models go on: the member
        # registered now is listed at once.
        registered = register(c, rng)
        assert registered.status_code == 201, registered.text
        assert behind(registered) is None
        members = listed(c)
        assert behind(members) == "fund"
        assert {first, registered.json()["member_id"]} <= {
            m["member_id"] for m in members.json()["items"]
        }
        failure = halted_at(c, "fund")
        assert "ContributionReceived" in failure["event_type"]
        assert failure["error"] and failure["failed_at"]
        position = failure["position"]
        members = read_model(c, "members")
        assert members["state"] == "running" and members["lag"] == 0
        fund = read_model(c, "fund")
        assert fund["position"] < position and fund["lag"] > 0  # halted AT the event
        # ... after applying what came before it.
        assert [e["amount_fen"] for e in c.get("/api/v1/fund/ledger", headers=OPERATOR).json()] == [
            500
        ]

        ready = c.get("/readyz")
        assert ready.status_code == 503
        body = ready.json()
        assert (
            body["status"] == "degraded"
            and f"fund halted at position {position}" in (body["reason"])
        )
        assert c.get("/healthz").status_code == 200
        up, detail = readyz(c, "")  # what `liangdi up` and `liangdi status` ask
        assert up and detail.startswith("503 degraded: read model fund halted")
        metrics = c.get("/metrics").text
        halted = 'liangdi_read_model_halted{place="371326",read_model="%s",service="outflow"}'
        assert f"{halted % 'fund'} 1.0" in metrics
        assert f"{halted % 'members'} 0.0" in metrics

        # Retry without a fix: it fails on the same event again, and says so.
        retried = c.post(
            "/admin/read-models/fund/retry", json={"reason": "try again"}, headers=OPERATOR
        )
        assert retried.status_code == 200, retried.text
        assert retried.json()["state"] == "halted"
        assert retried.json()["failure"]["position"] == position
        assert retried.json()["history"][0]["state"] == "retried"
        denied = c.post("/admin/read-models/fund/retry", json={"reason": "x" * 5}, headers=AUDITOR)
        assert denied.status_code == 403

    # The service restarts cleanly on the same store, still degraded, still answering.
    with running("outflow", settings) as c:
        assert c.get("/readyz").json()["status"] == "degraded"
        assert read_model(c, "fund")["failure"]["position"] == position
        again = register(c, rng)
        assert again.status_code == 201
        members = listed(c)
        assert behind(members) == "fund"
        assert again.json()["member_id"] in {m["member_id"] for m in members.json()["items"]}

        wrong = c.post(
            "/admin/read-models/fund/skip",
            json={"position": position + 1, "reason": "wrong one"},
            headers=OPERATOR,
        )
        assert wrong.status_code == 409
        assert wrong.json()["error"]["code"] == "read_model.wrong_position"
        done = skip(c, position, "amount beyond any real contribution")
        assert done["state"] == "running" and done["lag"] == 0
        audit = {h["position"]: h for h in done["history"] if h["state"] == "skipped"}
        assert audit[position]["reason"] == "amount beyond any real contribution"
        assert audit[position]["resolved_by"].startswith("origin_operator:")
        assert audit[position]["resolved_at"]
        assert c.get("/readyz").status_code == 200
        assert [e["amount_fen"] for e in c.get("/api/v1/fund/ledger", headers=OPERATOR).json()] == [
            500
        ]

        # Rebuild from zero: the tables are replayed; the skipped events stay skipped.
        before = done["handled_since_start"]
        rebuilt = c.post(
            "/admin/read-models/fund/rebuild", json={"reason": "check the replay"}, headers=OPERATOR
        )
        assert rebuilt.status_code == 202, rebuilt.text
        final = wait_until(
            lambda: (m := read_model(c, "fund"))["lag"] == 0 and m, message="fund rebuilt"
        )
        assert final["state"] == "running"
        assert final["handled_since_start"] - before >= final["head"]  # every event again
        ledger = c.get("/api/v1/fund/ledger", headers=OPERATOR).json()
        assert [e["amount_fen"] for e in ledger] == [500]
        assert c.get("/readyz").status_code == 200


def skip(c: TestClient, position: int, reason: str) -> dict[str, Any]:
    r = c.post(
        "/admin/read-models/fund/skip",
        json={"position": position, "reason": reason},
        headers=OPERATOR,
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_the_host_keeps_its_members_current_while_evaluations_halt(database_url: str) -> None:
    with running("inflow", place("inflow", database_url)) as c:
        app = c.app.state.runtime.app  # type: ignore[attr-defined]
        request = AssistanceRequest(
            member_record_id="m-1",
            host_place=HOST,
            origin_place=ORIGIN,
            origin_member_id="o-1",
            amount_fen=POISON,
            reason="旧数据",
            requested_on=date(2026, 3, 1),
            requested_by="t",
            idempotency_key="",
        )
        app.save(request)
        arrival = {
            "origin_place": ORIGIN,
            "name": "赵强",
            "resident_id": member_body(random.Random(3))["resident_id"],
            "phone": "13800001111",
            "reported_on": "2026-03-10",
        }
        created = c.post("/api/v1/arrivals/unannounced", json=arrival, headers=HOST_OPERATOR)
        assert created.status_code == 201, created.text
        listed = c.get("/api/v1/members", headers=HOST_OPERATOR).json()["items"]
        assert [m["member_id"] for m in listed] == [created.json()["id"]]
        failure = wait_until(
            lambda: read_model(c, "evaluations", HOST_OPERATOR)["failure"], message="halt"
        )
        assert failure["originator_id"] == str(request.id)
        assert c.get("/readyz").json()["status"] == "degraded"
        r = c.post(
            "/admin/read-models/evaluations/skip",
            json={"position": failure["position"], "reason": "not a real request"},
            headers=HOST_OPERATOR,
        )
        assert r.status_code == 200 and r.json()["state"] == "running", r.text
        assert c.get("/readyz").status_code == 200


def test_a_nul_in_a_name_halts_arrivals_on_postgresql_and_a_rebuild_resumes(
    pg_database_url: str,
) -> None:
    """PostgreSQL text cannot hold NUL: an old arrival reported with one stops only `arrivals`."""
    rng = random.Random(5)
    with running("outflow", place("outflow", pg_database_url)) as c:
        app = c.app.state.runtime.app  # type: ignore[attr-defined]
        arrival = UnannouncedArrival(
            host_place=HOST,
            host_record_id="h-1",
            name="李\u0000四",
            resident_id=member_body(rng)["resident_id"],
            phone="13800001111",
            reported_on=date(2026, 3, 10),
            certificate_no=None,
            member_id=None,
            mismatches=[],
        )
        app.save(arrival)
        registered = register(c, rng)
        assert registered.status_code == 201
        assert behind(listed(c)) == "arrivals"
        failure = halted_at(c, "arrivals")
        assert failure["originator_id"] == str(arrival.id)
        assert "NUL" in failure["error"] and "李" not in failure["error"]
        assert registered.json()["member_id"] in member_ids(c)
        r = c.post(
            "/admin/read-models/arrivals/rebuild",
            json={"reason": "after the fix"},
            headers=OPERATOR,
        )
        assert r.status_code == 202, r.text
        # Not fixed: the rebuild reaches the same event and halts there again, recorded as such.
        again = halted_at(c, "arrivals")
        assert again["position"] == failure["position"] and again["id"] != failure["id"]
        history = read_model(c, "arrivals")["history"]
        assert history[0]["state"] == "rebuilt" and history[0]["reason"] == "after the fix"


def test_a_write_is_answered_from_the_store_while_members_halt(pg_database_url: str) -> None:
    """A member registered after `members` halted is not in its table: the write's answer (always
    from the store) and a read of that member (from the store while `members` is behind) are
    current instead of a 404 for a stored fact."""
    rng = random.Random(6)
    with running("outflow", place("outflow", pg_database_url)) as c:
        app = c.app.state.runtime.app  # type: ignore[attr-defined]
        old = app.get_member(uuid.UUID(register(c, rng).json()["member_id"]))
        old._corrected(changes={"name": "李\u0000四"}, host_place=None, recorded_by="t")
        app.save(old)
        member_id = register(c, rng).json()["member_id"]
        assert halted_at(c, "members")["originator_id"] == str(old.id)
        departed = c.post(
            f"/api/v1/members/{member_id}/departures",
            json=departure_body(HOST, rng) | {"departed_on": "2026-03-01"},
            headers=OPERATOR,
        )
        assert departed.status_code == 201, departed.text
        contact = c.post(
            f"/api/v1/members/{member_id}/contacts",
            json={"kind": "dues", "on": "2026-03-05"},
            headers=OPERATOR,
        )
        assert contact.status_code == 200, contact.text
        assert behind(contact) is None  # a write's answer comes from the store: no wait
        summary = contact.json()
        assert summary["member_id"] == member_id and summary["status"] == "departed"
        assert summary["last_contact_on"] == "2026-03-05"
        got = c.get(f"/api/v1/members/{member_id}", headers=OPERATOR)
        assert got.status_code == 200 and got.json()["host_place"] == HOST
        assert got.json()["last_contact_on"] == "2026-03-05" and behind(got) == "members"
        assert c.get(f"/api/v1/members/{uuid.uuid4()}", headers=OPERATOR).status_code == 404


def test_a_store_of_the_single_projector_is_not_replayed(tmp_path: Path) -> None:
    """A store kept by the one projector before the split: each read model starts at its
    position (its rows are current to it), once; after that each keeps its own."""
    settings, rng = place("outflow", f"sqlite:///{tmp_path / 'old.db'}"), random.Random(7)
    with running("outflow", settings) as c:
        register(c, rng)
        head = read_model(c, "members")["head"]
    engine = sqlalchemy_engine(settings.database_url)
    with engine.begin() as conn:  # as the store was before the split
        conn.execute(sa.text("DELETE FROM liangdi_positions"))
        conn.execute(
            sa.text("INSERT INTO liangdi_positions VALUES ('projection:outflow:v2', :p, :t)"),
            {"p": head, "t": datetime.now(UTC)},
        )
    engine.dispose()
    with running("outflow", settings) as c:
        models = c.get("/admin/read-models", headers=AUDITOR).json()["read_models"]
        assert [(m["position"], m["handled_since_start"]) for m in models] == [(head, 0)] * 4
        rebuilt = c.post(
            "/admin/read-models/members/rebuild", json={"reason": "r" * 3}, headers=OPERATOR
        )
        assert rebuilt.status_code == 202
        wait_until(lambda: read_model(c, "members")["lag"] == 0, message="members rebuilt")
        assert len(member_ids(c)) == 1


def test_an_api_read_waits_for_the_read_models_once(tmp_path: Path) -> None:
    """The middleware waits before an API read; the route's own query helper then does not wait
    again (the read writes nothing in between)."""
    with running("inflow", place("inflow", f"sqlite:///{tmp_path / 'host.db'}")) as c:
        read_models = c.app.state.runtime.read_models
        asked: list[int] = []
        reach = read_models.reach
        read_models.reach = lambda *a, **k: asked.append(1) or reach(*a, **k)  # type: ignore[method-assign]
        for path in ("/api/v1/members", f"/api/v1/members/{uuid.uuid4()}"):
            asked.clear()
            response = c.get(path, headers=HOST_OPERATOR)
            assert response.status_code in (200, 404), response.text
            assert len(asked) == 1, path
