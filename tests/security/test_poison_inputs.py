"""Issue 9, section 1: a value a store or read model cannot hold is never stored.

Reproductions: `"amount_fen": 100000000000000000000` at the origin's API, and a host reporting an
unannounced arrival whose name contains NUL (`"李\\u0000四"`) to an origin on PostgreSQL (text
cannot hold NUL). Each is refused where it enters (422 / dead letter `schema`), nothing is
stored, and the place keeps answering and restarts cleanly.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import date
from typing import Any

import nats
from nats.js.api import ConsumerConfig, DeliverPolicy

from shared.contracts.envelope import H2O, Envelope, new_envelope
from shared.contracts.events import ArrivedUnannounced, AssistanceRequested
from shared.messaging.topology import DEADLETTER_STREAM, deadletter_subject, event_subject
from shared.validation import make_resident_id
from tests.support.backends import NatsServer
from tests.support.harness import auth, running, settings_for, wait_until

ORIGIN, HOST = "371326", "310115"
BORN = date(1990, 5, 1)


def _error(response: Any) -> tuple[str, str]:
    body = response.json()["error"]
    return body["code"], body["message"]


def test_the_api_refuses_what_a_store_cannot_hold_and_the_origin_keeps_answering(
    pg_database_url: str,
) -> None:
    settings = settings_for(
        "outflow",
        pg_database_url,
        "nats://127.0.0.1:1",
        ORIGIN,
        sync_enabled=False,
        max_amount_fen=1_000_000,
    )
    h = auth("origin_operator", ORIGIN)
    keys = iter(range(1_000))

    def contribute(client: Any, amount: object) -> Any:
        body = {"amount_fen": amount, "contributor": "县财政", "received_on": "2026-03-01"}
        key = {"Idempotency-Key": f"poison-{next(keys):04d}"}
        return client.post("/api/v1/fund/contributions", json=body, headers=h | key)

    with running("outflow", settings) as origin:
        huge = contribute(origin, 100000000000000000000)
        assert huge.status_code == 422, huge.text
        code, message = _error(huge)
        assert code == "request.invalid" and message.startswith("body.amount_fen:")
        above = contribute(origin, 1_000_001)
        assert above.status_code == 422 and _error(above)[0] == "amount.above_ceiling"
        assert "1000000" in _error(above)[1]
        assert contribute(origin, 500).status_code == 201

        nul = origin.post(
            "/api/v1/members",
            json={
                "name": "李\u0000四",
                "resident_id": make_resident_id(ORIGIN, BORN, 13),
                "sex": "male",
                "phone": "13812345678",
                "origin_branch": "东关村党支部",
                "household_address": "平邑镇东关村",
            },
            headers=h,
        )
        assert nul.status_code == 422 and _error(nul)[1].startswith("body.name:")
        assert "U+0000" in _error(nul)[1]
        for query in ("status=%00", "as_of=9999-12-31", "host_place=%D9%A3%D9%A7%D9%A1%D9%A3"):
            answer = origin.get(f"/api/v1/members?{query}", headers=h)
            assert answer.status_code == 422, (query, answer.text)
            assert _error(answer)[1].startswith("query."), answer.text

        registered = origin.post(
            "/api/v1/members",
            json={
                "name": "李四",
                "resident_id": make_resident_id(ORIGIN, BORN, 13),
                "sex": "male",
                "phone": "13812345678",
                "origin_branch": "东关村党支部",
                "household_address": "平邑镇东关村",
            },
            headers=h,
        )
        assert registered.status_code == 201, registered.text
        member_id = registered.json()["member_id"]
        early = origin.post(
            f"/api/v1/members/{member_id}/departures",
            json={
                "host_place": HOST,
                "employer": "浦东物流",
                "host_address": "上海市浦东新区张江路1号",
                "reason": "务工",
                "expected_months": 4,
                "departed_on": "1989-01-01",
            },
            headers=h,
        )
        assert early.status_code == 422 and _error(early)[0] == "departure.before_birth"

        assert origin.get("/readyz").status_code == 200
        assert origin.get("/api/v1/fund", headers=h).json()["balance_fen"] == 500

    with running("outflow", settings) as restarted:  # nothing stored that stops a restart
        assert restarted.get("/readyz").status_code == 200
        assert restarted.get("/api/v1/fund", headers=h).json()["contributed_fen"] == 500


def test_the_host_refuses_at_its_api_what_the_origin_could_not_hold(pg_database_url: str) -> None:
    settings = settings_for(
        "inflow", pg_database_url, "nats://127.0.0.1:1", HOST, sync_enabled=False
    )
    h = auth("host_operator", HOST)
    report = {
        "origin_place": ORIGIN,
        "name": "李\u0000四",
        "resident_id": make_resident_id(ORIGIN, BORN, 14),
        "phone": "13812345678",
        "reported_on": "2026-03-10",
    }
    with running("inflow", settings) as host:
        nul = host.post("/api/v1/arrivals/unannounced", json=report, headers=h)
        assert nul.status_code == 422 and _error(nul)[1].startswith("body.name:")
        unborn = host.post(
            "/api/v1/arrivals/unannounced",
            json=report | {"name": "李四", "reported_on": "1980-01-01"},
            headers=h,
        )
        assert unborn.status_code == 422 and "before the birth date" in _error(unborn)[1]
        odd_certificate = host.post(
            "/api/v1/arrivals/unannounced",
            json=report | {"name": "李四", "certificate_no": "第 1 号"},
            headers=h,
        )
        assert odd_certificate.status_code == 422 and "certificate_no" in _error(odd_certificate)[1]
        assert host.get("/api/v1/members", headers=h).json()["total"] == 0
        assert host.get("/readyz").status_code == 200


# --- wire facts -------------------------------------------------------------------------------


def _from_host(event: Any, stream: str, **tamper: object) -> Envelope:
    envelope = new_envelope(
        event_id=str(uuid.uuid4()),
        service="inflow",
        event=event,
        member_id=stream,
        from_place=HOST,
        to_place=ORIGIN,
        direction=H2O,
        stream=stream,
        seq=1,
        prevseq=0,
    )
    # A sender that skipped validation: the data as it arrives, not as our models would build it.
    return dataclasses.replace(envelope, data={**envelope.data, **tamper})


def _arrival(seq: int, **tamper: object) -> Envelope:
    record = str(uuid.uuid4())
    event = ArrivedUnannounced(
        host_record_id=record,
        origin_place=ORIGIN,
        host_place=HOST,
        name="李四",
        resident_id=make_resident_id(ORIGIN, BORN, seq),
        phone="13812345678",
        reported_on=date(2026, 3, 10),
    )
    return _from_host(event, record, **tamper)


def _request(**tamper: object) -> Envelope:
    member = str(uuid.uuid4())
    event = AssistanceRequested(
        member_id=member,
        origin_place=ORIGIN,
        host_place=HOST,
        request_id=str(uuid.uuid4()),
        amount_fen=200_000,
        reason="工伤住院",
        requested_on=date(2026, 3, 10),
    )
    return _from_host(event, member, **tamper)


async def _publish(url: str, envelopes: list[Envelope]) -> None:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        for e in envelopes:
            subject = event_subject(H2O, HOST, ORIGIN, e.subject)
            await js.publish(subject, e.to_bytes(), headers={"Nats-Msg-Id": e.id})
    finally:
        await nc.close()


async def _dead_letters(url: str) -> dict[str, str]:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        subject = deadletter_subject("outflow", ORIGIN)
        sub = await js.pull_subscribe(
            subject,
            stream=DEADLETTER_STREAM,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, filter_subject=subject),
        )
        found: dict[str, str] = {}
        try:
            for msg in await sub.fetch(batch=100, timeout=1.0):
                found[msg.data.decode(errors="replace")] = (msg.headers or {}).get(
                    "Liangdi-Reason", ""
                )
        except TimeoutError:
            pass
        return found
    finally:
        await nc.close()


def test_a_fact_out_of_range_is_dead_lettered_as_schema_and_never_stored(
    nats_server: NatsServer, pg_database_url: str
) -> None:
    settings = settings_for("outflow", pg_database_url, nats_server.url, ORIGIN)
    poison = {
        "name": _arrival(20, name="李\u0000四"),
        "amount_fen": _request(amount_fen=100000000000000000000),
        "reported_on": _arrival(21, reported_on="9999-12-31"),
    }
    genuine = _arrival(22)
    h = auth("origin_operator", ORIGIN)
    with running("outflow", settings) as origin:
        runtime = origin.app.state.runtime
        wait_until(lambda: runtime.agent.ready.is_set(), message="origin linked to NATS")
        asyncio.run(_publish(nats_server.url, [*poison.values(), genuine]))

        def arrivals() -> list[dict[str, Any]]:
            return origin.get("/api/v1/arrivals", headers=h).json()

        wait_until(lambda: len(arrivals()) == 1, message="the genuine arrival applied")
        letters = wait_until(
            lambda: len(found := asyncio.run(_dead_letters(nats_server.url))) >= 3 and found,
            message="every poison fact dead-lettered",
        )
        assert [a["host_record_id"] for a in arrivals()] == [genuine.subject]
        assert runtime.processor.counts["applied"] == 1
        assert origin.get("/readyz").status_code == 200
        assert origin.get("/api/v1/fund/applications", headers=h).json()["total"] == 0

    for field, envelope in poison.items():
        reason = next(r for data, r in letters.items() if envelope.id in data)
        assert reason.startswith("schema: "), reason
        assert f": {field}: " in reason, reason
        assert "李" not in reason  # the reason is an operator's metric label, not personal data

    with running("outflow", settings) as restarted:  # nothing stored that stops a restart
        assert restarted.get("/readyz").status_code == 200
        assert len(restarted.get("/api/v1/arrivals", headers=h).json()) == 1
