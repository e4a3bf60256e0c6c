"""Host evaluation with its evidence and the origin's conclusion; assistance requests."""

from __future__ import annotations

import random

from shared.contracts import events as wire
from tests.inflow.support import (
    AUDITOR,
    HOST,
    ORIGIN,
    OriginWire,
    W,
    error_code,
    expect,
    inflow,
    report,
)
from tests.support.harness import wait_until


def test_host_evaluation_carries_attendance_and_shows_the_conclusion(
    pg_database_url: str, nats_server
) -> None:
    origin, rng = OriginWire(nats_server.url), random.Random(20)
    with inflow(pg_database_url, nats_server.url) as host:
        member = origin.depart(rng)
        record = expect(host, member)
        url = f"/api/v1/members/{record['member_id']}/evaluations"
        body = {"year": 2026, "grade": "excellent", "comments": "积极参加活动"}
        unreported = host.post(url, json=body, headers=W)
        assert unreported.status_code == 422
        assert error_code(unreported) == "evaluation.not_hosted_that_year"

        report(host, record, on="2026-03-05")
        for held_on in ("2026-03-10", "2026-04-10"):
            host.post(
                "/api/v1/activities",
                headers=W,
                json={
                    "kind": "monthly_activity_day",
                    "title": "主题党日",
                    "held_on": held_on,
                    "organiser": "浦东新区",
                    "attendee_ids": [record["member_id"]],
                },
            )
        earlier = host.post(url, json=body | {"year": 2025}, headers=W)
        assert error_code(earlier) == "evaluation.not_hosted_that_year"
        bad_grade = host.post(url, json=body | {"grade": "good"}, headers=W)
        assert bad_grade.status_code == 422 and error_code(bad_grade) == "request.invalid"
        future = host.post(url, json=body | {"year": 2099}, headers=W)
        assert error_code(future) == "evaluation.future_year"

        done = host.post(url, json=body, headers=W)
        assert done.status_code == 201, done.text
        assert done.json()["total"] == 2
        sent = wait_until(
            lambda: origin.facts_of_type("assessment.host_evaluated"),
            message="host evaluation at the origin",
        )
        assert (sent[0]["member_id"], sent[0]["year"], sent[0]["grade"]) == (
            member,
            2026,
            "excellent",
        )
        assert sent[0]["attendance_count"] == 2

        origin.send(
            wire.OriginEvaluated(
                member_id=member, origin_place=ORIGIN, host_place=HOST, year=2026, grade="competent"
            ),
            member_id=member,
        )
        origin.send(
            wire.AssessmentConcluded(
                member_id=member,
                origin_place=ORIGIN,
                host_place=HOST,
                year=2026,
                grade="competent",
                origin_grade="competent",
                host_grade="excellent",
            ),
            member_id=member,
        )

        def concluded() -> dict | None:
            items = host.get(
                f"/api/v1/evaluations?member_id={record['member_id']}", headers=AUDITOR
            ).json()["items"]
            return items[0] if items and items[0]["concluded_grade"] else None

        shown = wait_until(concluded, message="conclusion shown")
        assert shown["host_grade"] == "excellent" and shown["origin_grade"] == "competent"
        assert shown["concluded_grade"] == "competent"
        assert shown["attendance_by_kind"] == {"monthly_activity_day": 2}
        revise = host.post(url, json=body | {"grade": "competent"}, headers=W)
        assert revise.status_code == 409 and error_code(revise) == "evaluation.concluded"


def test_assistance_request_goes_to_origin_and_follows_its_status(
    pg_database_url: str, nats_server
) -> None:
    origin, rng = OriginWire(nats_server.url), random.Random(21)
    with inflow(pg_database_url, nats_server.url) as host:
        member = origin.depart(rng)
        record = expect(host, member)
        url = f"/api/v1/members/{record['member_id']}/assistance-requests"
        body = {"amount_fen": 200000, "reason": "工伤住院，家庭困难", "requested_on": "2026-04-02"}
        not_here = host.post(url, json=body, headers=W)
        assert not_here.status_code == 409 and error_code(not_here) == "assistance.not_hosted"
        report(host, record)
        for amount in (0, -5, 12.5, "100"):
            bad = host.post(url, json=body | {"amount_fen": amount}, headers=W)
            assert bad.status_code == 422 and error_code(bad) == "request.invalid", amount
        assert host.get("/api/v1/assistance-requests", headers=W).json()["total"] == 0

        keyed = W | {"Idempotency-Key": "2026-04-02-req-0001"}
        created = host.post(url, json=body, headers=keyed)
        assert created.status_code == 201, created.text
        request_id = created.json()["id"]
        retried = host.post(url, json=body, headers=keyed)  # a client's retry: the same request
        assert retried.status_code == 201 and retried.json()["id"] == request_id, retried.text
        reused = host.post(url, json=body | {"amount_fen": 1}, headers=keyed)
        assert reused.status_code == 422 and error_code(reused) == "idempotency.key_reused"
        short = host.post(url, json=body, headers=W | {"Idempotency-Key": "short"})
        assert short.status_code == 422, short.text
        sent = wait_until(
            lambda: origin.facts_of_type("assistance.requested"), message="request at the origin"
        )
        assert (sent[0]["request_id"], sent[0]["amount_fen"]) == (request_id, 200000)
        assert host.get("/api/v1/assistance-requests", headers=W).json()["total"] == 1

        for status in ("approved", "in_public_notice", "paid"):
            origin.send(
                wire.AssistanceStatusChanged(
                    member_id=member,
                    origin_place=ORIGIN,
                    host_place=HOST,
                    application_id=request_id,
                    status=status,
                    amount_fen=200000,
                ),
                member_id=member,
            )
        wait_until(
            lambda: (
                host.get(f"/api/v1/assistance-requests/{request_id}", headers=AUDITOR).json()[
                    "status"
                ]
                == "paid"
            ),
            message="paid shown at the host",
        )
        paid = host.get("/api/v1/assistance-requests?status=paid", headers=W).json()
        assert [r["request_id"] for r in paid["items"]] == [request_id]
