"""Joint assessment (双向互评) through the real sync service: every state, joint review, overdue."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from shared.contracts.envelope import H2O, O2H
from shared.contracts.events import (
    AssessmentConcluded,
    AssessmentJointlyReviewed,
    HostEvaluated,
    MemberDeparted,
    OriginEvaluated,
)
from tests.support.backends import NatsServer
from tests.support.harness import auth, running, settings_for, wait_until
from tests.sync.test_reconciliation_wire import Wire

ORIGIN, HOST = "371326", "310115"
ADMIN, AUDITOR = auth("sync_admin"), auth("auditor")


def departed(member: str) -> MemberDeparted:
    return MemberDeparted(
        member_id=member,
        origin_place=ORIGIN,
        host_place=HOST,
        name="张伟",
        resident_id="371326199001011234",
        sex="male",
        phone="13800000000",
        origin_branch="b",
        employer="e",
        host_address="a",
        reason="务工",
        expected_months=4,
        departed_on="2026-03-01",
        certificate_no="371326-000001",
    )


def origin_grade(member: str, grade: str) -> OriginEvaluated:
    return OriginEvaluated(
        member_id=member, origin_place=ORIGIN, host_place=HOST, year=2026, grade=grade
    )


def host_grade(member: str, grade: str) -> HostEvaluated:
    return HostEvaluated(
        member_id=member,
        origin_place=ORIGIN,
        host_place=HOST,
        year=2026,
        grade=grade,
        attendance_count=5,
    )


def test_assessment_reaches_every_state(pg_database_url: str, nats_server: NatsServer) -> None:
    wire = Wire(nats_server.url)
    m = {name: str(uuid.uuid4()) for name in ("both", "host", "origin", "agreed", "div", "nc")}
    host_stream = {name: str(uuid.uuid4()) for name in m}  # the host's own aggregate per member
    settings = settings_for("sync", pg_database_url, nats_server.url)
    with running("sync", settings) as sync:

        def report(**params: Any) -> dict[str, Any]:
            response = sync.get("/admin/reconciliation", params=params, headers=ADMIN)
            assert response.status_code == 200, response.text
            return response.json()

        def listing(**params: Any) -> dict[str, Any]:
            response = sync.get("/admin/reconciliation/assessments", params=params, headers=ADMIN)
            assert response.status_code == 200, response.text
            return response.json()

        wire.send(departed(m["both"]), direction=O2H, stream=m["both"])
        wire.send(origin_grade(m["host"], "competent"), direction=O2H, stream=m["host"])
        wire.send(host_grade(m["origin"], "excellent"), direction=H2O, stream=host_stream["origin"])
        wire.send(origin_grade(m["agreed"], "competent"), direction=O2H, stream=m["agreed"])
        wire.send(host_grade(m["agreed"], "excellent"), direction=H2O, stream=host_stream["agreed"])
        wire.send(origin_grade(m["div"], "excellent"), direction=O2H, stream=m["div"])
        wire.send(
            host_grade(m["div"], "basically_competent"), direction=H2O, stream=host_stream["div"]
        )
        wire.send(origin_grade(m["nc"], "basically_competent"), direction=O2H, stream=m["nc"])
        wire.send(host_grade(m["nc"], "not_competent"), direction=H2O, stream=host_stream["nc"])

        expected = {
            "awaiting_both": 1,
            "awaiting_host": 1,
            "awaiting_origin": 1,
            "agreed": 1,
            "divergent": 2,
            "concluded": 0,
            "overdue": 0,
        }
        wait_until(
            lambda: report(as_of="2026-12-31")["assessments"]["by_state"] == expected,
            message="every assessment in its state",
        )
        divergent = listing(state="divergent", as_of="2026-12-31")
        assert {item["member_id"] for item in divergent["items"]} == {m["div"], m["nc"]}
        state_of = {item["member_id"]: item["state"] for item in listing(year=2026)["items"]}
        assert state_of[m["both"]] == "awaiting_both" and state_of[m["agreed"]] == "agreed"
        assert listing(year=2025)["total"] == 0
        assert listing(place="310112")["total"] == 0
        page = listing(place=HOST, limit=2, offset=2)
        assert page["total"] == 6 and len(page["items"]) == 2

        # A copy re-published with a new Nats-Msg-Id (same CloudEvents id) is not applied again.
        copy = wire.envelope(
            origin_grade(m["agreed"], "competent"), direction=O2H, stream=m["agreed"], seq=1
        )
        wire.publish(copy, msg_id_suffix=".resend.1")
        wait_until(lambda: report()["reconciler"]["counts"]["duplicate"] >= 1, message="dup")
        div_item = next(i for i in divergent["items"] if i["member_id"] == m["div"])
        path = f"/admin/reconciliation/assessments/{div_item['assessment_id']}"
        detail = sync.get(path, headers=ADMIN).json()
        assert detail["version"] == div_item["version"]
        assert [e["type"] for e in detail["evidence"]] == [
            "cn.liangdi.assessment.origin_evaluated.v1",
            "cn.liangdi.assessment.host_evaluated.v1",
        ]

        # The joint review is recorded at the origin (where the grade is final) and reaches the
        # exchange as a fact; the exchange has no command of its own for it.
        assert sync.post(f"{path}/joint-review", json={}, headers=ADMIN).status_code in (404, 405)
        wire.send(
            AssessmentJointlyReviewed(
                member_id=m["div"],
                origin_place=ORIGIN,
                host_place=HOST,
                year=2026,
                agreed_grade="competent",
                reviewed_on=date(2027, 1, 12),
                notes="met on 2027-01-12",
            ),
            direction=O2H,
            stream=m["div"],
        )
        reviewed = wait_until(
            lambda: sync.get(path, headers=ADMIN).json()["joint_review"], message="review seen"
        )
        assert reviewed["agreed_grade"] == "competent" and reviewed["notes"] == "met on 2027-01-12"
        assert sync.get(path, headers=ADMIN).json()["state"] == "divergent"
        seen_by_auditor = sync.get(path, headers=AUDITOR).json()["joint_review"]
        assert seen_by_auditor["notes"] is None and seen_by_auditor["agreed_grade"] == "competent"

        # The origin concludes: its grade is final, whatever the two grades were.
        wire.send(
            AssessmentConcluded(
                member_id=m["div"],
                origin_place=ORIGIN,
                host_place=HOST,
                year=2026,
                grade="competent",
            ),
            direction=O2H,
            stream=m["div"],
        )
        wait_until(
            lambda: report()["assessments"]["by_state"]["concluded"] == 1,
            message="conclusion reflected",
        )
        final = sync.get(path, headers=ADMIN).json()
        assert final["state"] == "concluded" and final["concluded_grade"] == "competent"
        assert final["concluded_without_review"] is False

        # Past the deadline (03-31 of the following year) every open assessment is overdue.
        assert report(as_of="2027-03-31")["assessments"]["by_state"]["overdue"] == 0
        late = report(as_of="2027-04-01")["assessments"]["by_state"]
        assert late == {
            "awaiting_both": 0,
            "awaiting_host": 0,
            "awaiting_origin": 0,
            "agreed": 0,
            "divergent": 0,
            "concluded": 1,
            "overdue": 5,
        }
        overdue = listing(state="overdue", as_of="2027-04-01")
        assert m["div"] not in {item["member_id"] for item in overdue["items"]}
        assert (
            sync.get("/admin/reconciliation", headers=auth("origin_operator", ORIGIN)).status_code
            == 403
        )
