"""One host, two origin counties: each origin receives only its own members' facts.

Both origins speak real NATS JetStream (correctly-formed, per-member ordered envelopes, as an
outflow relay sends them); what the host sends back is read with a JetStream subscription on
`liangdi.ev.h2o.<host>.<origin>.>`, the subject an origin's receiver consumes.
"""

from __future__ import annotations

import asyncio
import random

from tests.inflow.support import (
    HOST,
    ORIGIN,
    OTHER_ORIGIN,
    OriginWire,
    W,
    expect,
    inflow,
    read_subject,
    report,
)
from tests.support.backends import drop_schema
from tests.support.factories import departure_body, member_body
from tests.support.harness import auth, running, settings_for, wait_until

KINDS = {
    "member.reported",
    "member.branch_assigned",
    "activity.attended",
    "assessment.host_evaluated",
    "assistance.requested",
}


def _kind(event_type: str) -> str:
    return event_type.removeprefix("cn.liangdi.").rsplit(".v", 1)[0]


def test_each_origin_sees_only_its_own_members(pg_database_url: str, nats_server) -> None:
    rng = random.Random(40)
    wires = {place: OriginWire(nats_server.url, origin=place) for place in (ORIGIN, OTHER_ORIGIN)}
    with inflow(pg_database_url, nats_server.url) as host:
        sent = {
            place: [w.depart(rng, employer="张江软件园") for _ in range(2)]
            for place, w in wires.items()
        }
        records = {m: expect(host, m) for members in sent.values() for m in members}
        for record in records.values():
            report(host, record)
        ids = [r["member_id"] for r in records.values()]

        # One branch, one activity, evaluations and a request that mix both counties' members.
        branch = host.post(
            "/api/v1/branches",
            headers=W,
            json={
                "name": "张江软件园流动党员党支部",
                "basis": "employer",
                "basis_value": "张江软件园",
                "member_ids": ids,
                "approved_by": "李明",
                "committee_place": "310115",
                "approving_committee": "中共上海市浦东新区委员会组织部",
                "approved_on": "2026-04-01",
            },
        )
        assert branch.status_code == 201, branch.text
        activity = host.post(
            "/api/v1/activities",
            headers=W,
            json={
                "kind": "study_session",
                "title": "联合学习",
                "held_on": "2026-04-20",
                "organiser": "张江软件园流动党员党支部",
                "attendee_ids": ids,
            },
        )
        assert activity.status_code == 201, activity.text
        for member_id in ids:
            evaluated = host.post(
                f"/api/v1/members/{member_id}/evaluations",
                headers=W,
                json={"year": 2026, "grade": "competent"},
            )
            assert evaluated.status_code == 201, evaluated.text
            asked = host.post(
                f"/api/v1/members/{member_id}/assistance-requests",
                headers=W,
                json={"amount_fen": 50000, "reason": "困难", "requested_on": "2026-05-01"},
            )
            assert asked.status_code == 201, asked.text

        for place, wire in wires.items():

            def complete(wire: OriginWire = wire, place: str = place) -> list | None:
                facts = wire.facts_back()
                per_member = {
                    m: {_kind(f.type) for f in facts if f.data["member_id"] == m}
                    for m in sent[place]
                }
                return facts if all(kinds >= KINDS for kinds in per_member.values()) else None

            facts = wait_until(complete, message=f"every fact for {place}")
            assert {f.data["member_id"] for f in facts} == set(sent[place])
            assert {f.data["origin_place"] for f in facts} == {place}
            assert {(f.from_place, f.to_place, f.direction) for f in facts} == {
                (HOST, place, "h2o")
            }
            assert len(facts) == 2 * len(KINDS)

        # Nothing the host sent went anywhere but to these two origins.
        everything = asyncio.run(
            read_subject(nats_server.url, f"liangdi.ev.h2o.{HOST}.>", "LIANGDI_EVENTS")
        )
        assert len(everything) == 4 * len(KINDS)


def test_two_real_outflow_instances_each_get_only_their_own(
    postgres_url: str, pg_database_url: str, nats_server
) -> None:
    """The same with the real origin service: departures registered at two outflow instances."""
    base, schema = pg_database_url.split("?")[0], pg_database_url.split("schema=")[1]
    url, rng = nats_server.url, random.Random(41)
    schemas = {ORIGIN: f"{schema}_a", OTHER_ORIGIN: f"{schema}_b"}

    def origin_settings(place: str):  # type: ignore[no-untyped-def]
        return settings_for("outflow", f"{base}?schema={schemas[place]}", url, place)

    try:
        with (
            running("outflow", origin_settings(ORIGIN)) as out_a,
            running("outflow", origin_settings(OTHER_ORIGIN)) as out_b,
            inflow(pg_database_url, url) as host,
        ):
            outs, sent = {ORIGIN: out_a, OTHER_ORIGIN: out_b}, {}
            for place, out in outs.items():
                o_auth = auth("origin_operator", place)
                created = out.post("/api/v1/members", json=member_body(rng, place), headers=o_auth)
                assert created.status_code == 201, created.text
                member_id = created.json()["member_id"]
                departed = out.post(
                    f"/api/v1/members/{member_id}/departures",
                    json=departure_body(HOST, rng),
                    headers=o_auth,
                )
                assert departed.status_code == 201, departed.text
                sent[place] = member_id
            records = {place: expect(host, m) for place, m in sent.items()}
            for record in records.values():
                report(host, record, on="2026-03-05")
            ids = [r["member_id"] for r in records.values()]
            activity = host.post(
                "/api/v1/activities",
                headers=W,
                json={
                    "kind": "study_session",
                    "title": "联合学习",
                    "held_on": "2026-03-20",
                    "organiser": "浦东新区",
                    "attendee_ids": ids,
                },
            )
            assert activity.status_code == 201, activity.text

            for place, member_id in sent.items():
                wire = OriginWire(url, origin=place)
                facts = wait_until(
                    lambda wire=wire: len(f := wire.facts_back()) == 2 and f,
                    message=f"report and attendance for {place}",
                )
                assert {f.data["member_id"] for f in facts} == {member_id}
                assert {_kind(f.type) for f in facts} == {"member.reported", "activity.attended"}
                o_auth = auth("origin_operator", place)
                wait_until(
                    lambda out=outs[place], m=member_id, a=o_auth: (
                        out.get(f"/api/v1/members/{m}", headers=a).json().get("reported_on")
                        == "2026-03-05"
                    ),
                    message=f"report applied at {place}",
                )
            other = out_a.get(
                f"/api/v1/members/{sent[OTHER_ORIGIN]}", headers=auth("origin_operator", ORIGIN)
            )
            assert other.status_code == 404
    finally:
        for name in schemas.values():
            drop_schema(postgres_url, name)
