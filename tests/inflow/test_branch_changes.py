"""Branch changes at the host, each explicit (docs/flows.md, "Branches"): a member of another
branch is never moved silently; move, remove, merge and dissolve keep a mobile-member branch at
its floor; admitting beyond the norm needs a recorded reason; the origin is told of each change."""

from __future__ import annotations

import random
from datetime import date
from typing import Any
from uuid import UUID

from services.inflow.domain.branch import MobileBranch
from shared.contracts import events as wire
from tests.inflow.support import HOST, ORIGIN, OriginWire, W, error_code, expect, inflow, report
from tests.support.harness import wait_until

APPROVAL = {
    "approved_by": "李明",
    "approving_committee": "中共上海市浦东新区委员会组织部",
    "committee_place": "310115",
    "approved_on": "2026-04-01",
}


def _form(host: Any, name: str, member_ids: list[str], **extra: Any) -> Any:
    body = {"name": name, "kind": "mobile", "basis": "employer", "basis_value": "张江软件园"}
    return host.post(
        "/api/v1/branches", headers=W, json=body | {"member_ids": member_ids} | APPROVAL | extra
    )


def _branch(host: Any, branch_id: str) -> dict[str, Any]:
    response = host.get(f"/api/v1/branches/{branch_id}", headers=W)
    assert response.status_code == 200, response.text
    return response.json()


def _members_of(host: Any, branch_id: str) -> list[str]:
    return sorted(m["member_id"] for m in _branch(host, branch_id)["members"])


def test_branch_changes_are_explicit_and_keep_the_floor(pg_database_url: str, nats_server) -> None:
    origin, rng = OriginWire(nats_server.url), random.Random(81)
    with inflow(pg_database_url, nats_server.url, branch_maximum=5) as host:
        origin_ids = [origin.depart(rng) for _ in range(9)]
        records = [expect(host, m) for m in origin_ids]
        m = [report(host, r) for r in records]
        a = _form(host, "张江一支部", m[0:3])
        assert a.status_code == 201, a.text
        a = a.json()["id"]

        # The old "409 retry" that never succeeded: two members of one branch named for a new
        # one. Now the same precise refusal each time, naming the explicit move; nothing changes.
        for _ in range(2):
            clash = _form(host, "张江二支部", [m[0], m[1], m[6]])
            assert clash.status_code == 409, clash.text
            assert error_code(clash) == "branch.member_in_other_branch"
            assert f"/api/v1/branches/{a}/members/{m[0]}/move" in clash.json()["error"]["message"]
        assert host.get("/api/v1/branches", headers=W).json()["total"] == 1
        assert _members_of(host, a) == sorted(m[0:3])

        b = _form(host, "张江二支部", m[3:6]).json()["id"]
        move = {"to_branch_id": b, "reason": "调到二期园区", "moved_on": "2026-05-10"}
        below = host.post(f"/api/v1/branches/{a}/members/{m[0]}/move", headers=W, json=move)
        assert below.status_code == 422 and error_code(below) == "branch.below_minimum"
        assert "merge" in below.json()["error"]["message"]
        added = host.post(f"/api/v1/branches/{a}/members", headers=W, json={"member_id": m[6]})
        assert added.status_code == 204, added.text
        moved = host.post(f"/api/v1/branches/{a}/members/{m[0]}/move", headers=W, json=move)
        assert moved.status_code == 204, moved.text
        assert _members_of(host, a) == sorted([m[1], m[2], m[6]])
        assert _members_of(host, b) == sorted([m[0], m[3], m[4], m[5]])
        stale = host.post(f"/api/v1/branches/{a}/members/{m[0]}/move", headers=W, json=move)
        assert stale.status_code == 409 and error_code(stale) == "branch.not_member"

        removal = {"reason": "长期在外地项目", "removed_on": "2026-05-11"}
        floor = host.post(f"/api/v1/branches/{a}/members/{m[1]}/remove", headers=W, json=removal)
        assert floor.status_code == 422 and error_code(floor) == "branch.below_minimum"
        removed = host.post(f"/api/v1/branches/{b}/members/{m[3]}/remove", headers=W, json=removal)
        assert removed.status_code == 204, removed.text
        assert host.get(f"/api/v1/members/{m[3]}", headers=W).json()["branch_id"] is None
        no_reason = host.post(f"/api/v1/branches/{b}/members/{m[4]}/remove", headers=W, json={})
        assert no_reason.status_code == 422 and error_code(no_reason) == "request.invalid"

        # Merging 3 into 3 passes the norm (5 here): only with a recorded reason.
        merge = {"into_branch_id": b, "reason": "同在张江园区", "merged_on": "2026-06-01"}
        over = host.post(f"/api/v1/branches/{a}/merge", headers=W, json=merge)
        assert over.status_code == 422 and error_code(over) == "branch.over_norm"
        reason = "园区党员集中，总支筹建中"
        merged = host.post(
            f"/api/v1/branches/{a}/merge", headers=W, json=merge | {"over_norm_reason": reason}
        )
        assert merged.status_code == 204, merged.text
        old, into = _branch(host, a), _branch(host, b)
        assert (old["state"], old["merged_into"], old["ended_on"]) == ("merged", b, "2026-06-01")
        assert old["member_count"] == 0 and old["members"] == []
        assert into["member_count"] == 6 and into["oversized"] is True
        assert into["over_norm_reason"] == reason and into["state"] == "active"
        assert _members_of(host, b) == sorted([m[0], m[1], m[2], m[4], m[5], m[6]])
        closed = host.post(f"/api/v1/branches/{a}/members", headers=W, json={"member_id": m[3]})
        assert closed.status_code == 409 and error_code(closed) == "branch.closed"

        # A member's own departure is a fact: it may leave the branch below the floor, shown.
        c = _form(host, "张江三支部", [m[3], m[7], m[8]]).json()["id"]
        assert _branch(host, c)["below_minimum"] is False
        left = host.post(
            f"/api/v1/members/{m[7]}/leave",
            headers=W,
            json={"left_on": "2026-06-10", "reason": "returned_home"},
        )
        assert left.status_code == 204, left.text
        after = _branch(host, c)
        assert (after["member_count"], after["below_minimum"]) == (2, True)
        # So is a return home the origin records: the member leaves the host and the branch.
        returned = wire.MemberStatusChanged(
            member_id=origin_ids[8],
            origin_place=ORIGIN,
            host_place=HOST,
            status="returned",
            on=date(2026, 6, 20),
        )
        origin.send(returned, member_id=origin_ids[8])
        wait_until(lambda: _members_of(host, c) == [m[3]], message="the returned member leaves")
        assert _branch(host, c)["member_count"] == 1

        dissolve = {"reason": "企业搬迁，党员分散", "dissolved_on": "2026-07-01"}
        dissolved = host.post(f"/api/v1/branches/{b}/dissolve", headers=W, json=dissolve)
        assert dissolved.status_code == 204, dissolved.text
        gone = _branch(host, b)
        assert (gone["state"], gone["end_reason"], gone["ended_on"]) == (
            "dissolved",
            "企业搬迁，党员分散",
            "2026-07-01",
        )
        assert gone["member_count"] == 0 and gone["below_minimum"] is False
        listed = host.get(f"/api/v1/members?branch_id={b}", headers=W).json()
        assert listed["total"] == 0
        # Unbranched again: a new branch may take them without any move.
        formed = _form(host, "张江四支部", [m[0], m[1], m[2]])
        assert formed.status_code == 201, formed.text
        d = formed.json()["id"]

        # Who, when and why are in the events themselves.
        app = host.app.state.runtime.app
        events = app.events.get(UUID(b))
        [removal_event] = [
            e
            for e in events
            if isinstance(e, MobileBranch.MemberReleased) and e.change == "removed"
        ]
        assert (removal_event.recorded_by, removal_event.reason) == (
            "test-host_operator",
            "长期在外地项目",
        )
        assert str(removal_event.on) == "2026-05-11"

        # The origin is told of each change, as it is of an assignment.
        by_member = {r["member_id"]: r["origin_member_id"] for r in records}
        facts = wait_until(
            lambda: len(f := origin.facts_of_type("member.branch_assigned")) == 24 and f,
            message="branch changes at the origin",
        )

        def changes(i: int) -> list[tuple[str, str]]:
            mine = [f for f in facts if f["member_id"] == by_member[m[i]]]
            return [(f["change"], f["branch_id"]) for f in mine]

        assert changes(0) == [("assigned", a), ("moved", b), ("dissolved", ""), ("assigned", d)]
        assert changes(1) == [("assigned", a), ("merged", b), ("dissolved", ""), ("assigned", d)]
        assert changes(3) == [("assigned", b), ("removed", ""), ("assigned", c)]
        assert [f["reason"] for f in facts if f["change"] == "removed"] == ["长期在外地项目"]
