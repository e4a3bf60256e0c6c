"""Branches follow the people: proposals, approved formation, joint branches, size flag; the
activity register with attendance that counts as contact at the origin."""

from __future__ import annotations

import random

from tests.inflow.support import (
    AUDITOR,
    OriginWire,
    W,
    error_code,
    expect,
    inflow,
    report,
)
from tests.support.harness import wait_until

APPROVAL = {
    "approved_by": "李明",
    "approving_committee": "中共上海市浦东新区委员会组织部",
    "committee_place": "310115",
    "approved_on": "2026-04-01",
}


def test_proposals_formation_assignment_and_size_flag(pg_database_url: str, nats_server) -> None:
    origin, rng = OriginWire(nats_server.url), random.Random(10)
    with inflow(pg_database_url, nats_server.url, branch_maximum=3) as host:
        at_park = [origin.depart(rng, employer="张江软件园") for _ in range(3)]
        elsewhere = [origin.depart(rng, employer=f"小店{i}") for i in range(2)]
        records = {m: expect(host, m) for m in at_park + elsewhere}
        assert host.get("/api/v1/branch-proposals", headers=W).json()["proposals"] == []
        for member in at_park:
            report(host, records[member])
        for member in elsewhere:
            report(host, records[member], locality="川沙新镇")

        proposals = host.get("/api/v1/branch-proposals", headers=AUDITOR).json()
        assert proposals["minimum"] == 3
        [proposal] = proposals["proposals"]
        assert (proposal["basis"], proposal["value"], proposal["member_count"]) == (
            "employer",
            "张江软件园",
            3,
        )
        park_ids = sorted(records[m]["member_id"] for m in at_park)
        assert sorted(m["member_id"] for m in proposal["members"]) == park_ids
        joint_ids = sorted(records[m]["member_id"] for m in elsewhere)
        assert sorted(m["member_id"] for m in proposals["joint_candidates"]) == joint_ids

        two = host.post(
            "/api/v1/branches",
            headers=W,
            json={
                "name": "川沙流动党员党支部",
                "kind": "mobile",
                "basis": "locality",
                "basis_value": "川沙新镇",
                "member_ids": joint_ids,
                **APPROVAL,
            },
        )
        assert two.status_code == 422 and error_code(two) == "branch.too_few_members"
        unapproved = host.post(
            "/api/v1/branches",
            headers=W,
            json={"name": "x", "basis": "employer", "member_ids": park_ids},
        )
        assert unapproved.status_code == 422 and error_code(unapproved) == "request.invalid"
        bad_committee = host.post(
            "/api/v1/branches",
            headers=W,
            json={
                "name": "x",
                "basis": "employer",
                "member_ids": park_ids,
                **APPROVAL | {"committee_place": "310100"},
            },
        )
        assert error_code(bad_committee) == "place.not_county"
        assert host.get("/api/v1/branches", headers=W).json()["total"] == 0

        formed = host.post(
            "/api/v1/branches",
            headers=W,
            json={
                "name": "张江软件园流动党员党支部",
                "kind": "mobile",
                "basis": "employer",
                "basis_value": "张江软件园",
                "member_ids": park_ids,
                **APPROVAL,
            },
        )
        assert formed.status_code == 201, formed.text
        branch_id = formed.json()["id"]
        branch = host.get(f"/api/v1/branches/{branch_id}", headers=AUDITOR).json()
        assert branch["member_count"] == 3 and branch["oversized"] is False
        assert branch["approved_by"] == "李明" and branch["committee_place"] == "310115"
        assert host.get("/api/v1/branch-proposals", headers=W).json()["proposals"] == []

        joint = host.post(
            "/api/v1/branches",
            headers=W,
            json={
                "name": "浦东联合党支部",
                "kind": "joint",
                "basis": "mixed",
                "member_ids": joint_ids[:1],
                **APPROVAL,
            },
        )
        assert joint.status_code == 201, joint.text
        # A member of another branch is never moved silently: the move is its own explicit act.
        silent = host.post(
            f"/api/v1/branches/{branch_id}/members", headers=W, json={"member_id": joint_ids[0]}
        )
        assert silent.status_code == 409 and error_code(silent) == "branch.member_in_other_branch"
        move = f"/api/v1/branches/{joint.json()['id']}/members/{joint_ids[0]}/move"
        body = {"to_branch_id": branch_id, "reason": "入职张江软件园"}
        # A fourth member in the park branch passes branch_maximum (3 here): only with a reason.
        unexplained = host.post(move, headers=W, json=body)
        assert unexplained.status_code == 422 and error_code(unexplained) == "branch.over_norm"
        moved = host.post(move, headers=W, json=body | {"over_norm_reason": "园区党员集中"})
        assert moved.status_code == 204, moved.text
        again = host.post(
            f"/api/v1/branches/{branch_id}/members", headers=W, json={"member_id": joint_ids[0]}
        )
        assert again.status_code == 409 and error_code(again) == "branch.already_member"
        branch = host.get(f"/api/v1/branches/{branch_id}", headers=W).json()
        assert branch["member_count"] == 4 and branch["oversized"] is True
        assert branch["over_norm_reason"] == "园区党员集中"
        joint_now = host.get(f"/api/v1/branches/{joint.json()['id']}", headers=W).json()
        assert joint_now["member_count"] == 0
        in_branch = host.get(f"/api/v1/members?branch_id={branch_id}", headers=W).json()
        assert in_branch["total"] == 4

        expected_unreported = origin.depart(rng)
        pending = expect(host, expected_unreported)
        not_yet = host.post(
            f"/api/v1/branches/{branch_id}/members",
            headers=W,
            json={"member_id": pending["member_id"]},
        )
        assert not_yet.status_code == 409 and error_code(not_yet) == "member.wrong_state"

        assigned = wait_until(
            lambda: len(f := origin.facts_of_type("member.branch_assigned")) == 5 and f,
            message="branch assignments at the origin",
        )
        moved_member = next(
            r["origin_member_id"] for r in records.values() if r["member_id"] == joint_ids[0]
        )
        moves = [(f["branch_id"], f["change"]) for f in assigned if f["member_id"] == moved_member]
        assert moves == [(joint.json()["id"], "assigned"), (branch_id, "moved")]


def test_activity_register_and_attendance_as_contact(pg_database_url: str, nats_server) -> None:
    origin, rng = OriginWire(nats_server.url), random.Random(11)
    with inflow(pg_database_url, nats_server.url) as host:
        a, b = origin.depart(rng), origin.depart(rng)
        ra, rb = expect(host, a), expect(host, b)
        report(host, ra, on="2026-03-05")
        report(host, rb, on="2026-04-10")
        activity = {
            "kind": "monthly_activity_day",
            "title": "四月主题党日",
            "held_on": "2026-04-01",
            "organiser": "张江软件园流动党员党支部",
        }

        before = host.post(
            "/api/v1/activities",
            headers=W,
            json=activity | {"attendee_ids": [ra["member_id"], rb["member_id"]]},
        )
        assert before.status_code == 422 and error_code(before) == "activity.before_arrival"
        assert host.get("/api/v1/activities", headers=W).json()["total"] == 0
        bad_kind = host.post(
            "/api/v1/activities", headers=W, json=activity | {"kind": "party", "attendee_ids": []}
        )
        assert bad_kind.status_code == 422 and error_code(bad_kind) == "request.invalid"

        created = host.post(
            "/api/v1/activities", headers=W, json=activity | {"attendee_ids": [ra["member_id"]]}
        )
        assert created.status_code == 201, created.text
        activity_id = created.json()["id"]
        late = host.post(
            f"/api/v1/activities/{activity_id}/attendance",
            headers=W,
            json={"member_ids": [rb["member_id"]]},
        )
        assert error_code(late) == "activity.before_arrival"
        twice = host.post(
            f"/api/v1/activities/{activity_id}/attendance",
            headers=W,
            json={"member_ids": [ra["member_id"]]},
        )
        assert twice.status_code == 409 and error_code(twice) == "activity.already_recorded"
        # The same activity (organiser, day, title) registered again is the same activity: its
        # attendance is merged, and no member attends it twice.
        again = host.post(
            "/api/v1/activities",
            headers=W,
            json=activity | {"title": " 四月主题党日", "attendee_ids": [ra["member_id"]]},
        )
        assert again.status_code == 201 and again.json()["id"] == activity_id, again.text

        study = host.post(
            "/api/v1/activities",
            headers=W,
            json={
                "kind": "study_session",
                "title": "学习会",
                "held_on": "2026-05-08",
                "organiser": "浦东新区某社区党委",
                "attendee_ids": [ra["member_id"], rb["member_id"]],
            },
        )
        assert study.status_code == 201, study.text

        listed = host.get("/api/v1/activities?year=2026", headers=AUDITOR).json()
        assert [x["attendee_count"] for x in listed["items"]] == [1, 2]
        attendance = host.get(
            f"/api/v1/members/{ra['member_id']}/attendance?year=2026", headers=AUDITOR
        ).json()
        assert attendance["total"] == 2
        assert attendance["by_kind"] == {"monthly_activity_day": 1, "study_session": 1}
        none_2025 = host.get(
            f"/api/v1/members/{ra['member_id']}/attendance?year=2025", headers=W
        ).json()
        assert none_2025["total"] == 0

        attended = wait_until(
            lambda: len(f := origin.facts_of_type("activity.attended")) == 3 and f,
            message="attendance at the origin",
        )
        assert sorted((f["member_id"], f["held_on"]) for f in attended) == sorted(
            [(a, "2026-04-01"), (a, "2026-05-08"), (b, "2026-05-08")]
        )
        assert {f["organiser"] for f in attended} == {
            "张江软件园流动党员党支部",
            "浦东新区某社区党委",
        }
