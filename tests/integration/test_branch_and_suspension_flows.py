"""Branches and suspension across a real origin and a real host (docs/flows.md).

Branches: every change of a member's branch at the host is explicit (form, assign, move, remove,
merge, dissolve), the floor of 3 holds, and the origin's record shows the member's branch after
each change. Suspension (停止党籍): a host's report ends the silence but never undoes the
suspension; only the origin's explicit restoration does, and the host sees each status.
"""

from __future__ import annotations

import random
from typing import Any

from tests.inflow.support import dead_letters
from tests.support.harness import auth, wait_until
from tests.support.places import host_record, real_places, register_and_depart, report

ORIGIN, HOST = "371326", "310115"
ORIGIN_OP, HOST_OP = auth("origin_operator", ORIGIN), auth("host_operator", HOST)
APPROVAL = {
    "approved_by": "李明",
    "approving_committee": "中共上海市浦东新区委员会组织部",
    "committee_place": HOST,
    "approved_on": "2026-06-20",
}


def test_every_branch_change_reaches_the_origin(
    postgres_url: str, pg_database_url: str, nats_server
) -> None:
    rng = random.Random(53)
    with real_places(
        postgres_url, pg_database_url, nats_server.url, o=("outflow", ORIGIN), h=("inflow", HOST)
    ) as places:
        out, inn = places["o"], places["h"]
        members = []  # (origin member id, host record id)
        for _ in range(7):
            member_id, certificate = register_and_depart(out, HOST, rng, "2026-06-01")
            members.append((member_id, report(inn, HOST, member_id, certificate, "2026-06-05")))

        def form(name: str, part: list[tuple[str, str]]) -> str:
            body = {
                "name": name,
                "basis": "locality",
                "basis_value": "张江",
                "member_ids": [h for _, h in part],
                **APPROVAL,
            }
            r = inn.post("/api/v1/branches", json=body, headers=HOST_OP)
            assert r.status_code == 201, r.text
            return r.json()["id"] if "id" in r.json() else r.json()["branch_id"]

        def branch_at_origin(member_id: str) -> Any:
            return out.get(f"/api/v1/members/{member_id}", headers=ORIGIN_OP).json()["host_branch"]

        def settles(expected: dict[str, Any], what: str) -> None:
            wait_until(
                lambda: all(branch_at_origin(m) == b for m, b in expected.items()),
                message=what,
            )

        a = form("张江第一流动党员党支部", members[0:3])
        b = form("张江第二流动党员党支部", members[3:6])
        settles({m: "张江第一流动党员党支部" for m, _ in members[0:3]}, "branch A at origin")
        settles({m: "张江第二流动党员党支部" for m, _ in members[3:6]}, "branch B at origin")

        seventh, seventh_here = members[6]
        assigned = inn.post(
            f"/api/v1/branches/{a}/members", json={"member_id": seventh_here}, headers=HOST_OP
        )
        assert assigned.status_code in (200, 201, 204), assigned.text
        moved = inn.post(
            f"/api/v1/branches/{a}/members/{seventh_here}/move",
            json={"to_branch_id": b, "reason": "换到第二支部所在园区工作"},
            headers=HOST_OP,
        )
        assert moved.status_code in (200, 204), moved.text
        settles({seventh: "张江第二流动党员党支部"}, "the move at the origin")
        removed = inn.post(
            f"/api/v1/branches/{b}/members/{seventh_here}/remove",
            json={"reason": "已转入单位党组织"},
            headers=HOST_OP,
        )
        assert removed.status_code in (200, 204), removed.text
        settles({seventh: None}, "the removal at the origin")
        below = inn.post(
            f"/api/v1/branches/{b}/members/{members[3][1]}/remove",
            json={"reason": "试图低于三人"},
            headers=HOST_OP,
        )
        assert below.status_code in (409, 422), below.text

        merged = inn.post(
            f"/api/v1/branches/{b}/merge",
            json={"into_branch_id": a, "reason": "同在张江园区，合并便于组织活动"},
            headers=HOST_OP,
        )
        assert merged.status_code in (200, 204), merged.text
        settles({m: "张江第一流动党员党支部" for m, _ in members[0:6]}, "the merge at origin")
        dissolved = inn.post(
            f"/api/v1/branches/{a}/dissolve",
            json={"reason": "企业搬迁，党员分散"},
            headers=HOST_OP,
        )
        assert dissolved.status_code in (200, 204), dissolved.text
        settles({m: None for m, _ in members[0:6]}, "the dissolution at the origin")
        assert dead_letters(nats_server.url, HOST) == []


def test_a_report_ends_silence_but_only_the_origin_restores_a_suspension(
    postgres_url: str, pg_database_url: str, nats_server
) -> None:
    rng = random.Random(59)
    with real_places(
        postgres_url, pg_database_url, nats_server.url, o=("outflow", ORIGIN), h=("inflow", HOST)
    ) as places:
        out, inn = places["o"], places["h"]
        member_id, certificate = register_and_depart(out, HOST, rng, "2026-01-10")
        path = f"/api/v1/members/{member_id}"
        lost = out.post(
            f"{path}/lost",
            json={"reason_code": "residence_changed", "on": "2026-07-20"},
            headers=ORIGIN_OP,
        )
        assert lost.status_code == 200, lost.text
        suspended = out.post(
            f"{path}/suspension",
            json={"on": "2026-08-01", "decision": "县委组织部〔2026〕12号"},
            headers=ORIGIN_OP,
        )
        assert suspended.status_code == 200, suspended.text
        record = wait_until(
            lambda: (r := host_record(inn, HOST, member_id))["origin_status"] == "suspended" and r,
            message="the suspension at the host",
        )
        reported = inn.post(
            f"/api/v1/members/{record['member_id']}/report",
            json={"certificate_no": certificate, "reported_on": "2026-08-10"},
            headers=HOST_OP,
        )
        assert reported.status_code == 204, reported.text
        wait_until(
            lambda: out.get(path, headers=ORIGIN_OP).json()["reported_on"] == "2026-08-10",
            message="the report at the origin",
        )
        assert out.get(path, headers=ORIGIN_OP).json()["status"] == "suspended"
        restored = out.post(f"{path}/restoration", json={"on": "2026-08-15"}, headers=ORIGIN_OP)
        assert restored.status_code == 200, restored.text
        assert restored.json()["status"] == "departed"
        wait_until(
            lambda: host_record(inn, HOST, member_id)["origin_status"] == "restored",
            message="the restoration at the host",
        )
        assert dead_letters(nats_server.url, HOST) == []
