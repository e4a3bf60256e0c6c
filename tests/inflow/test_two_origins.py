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
from tests.support.harness import wait_until

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
