"""Hardship assistance (困难帮扶) across a real origin and a real host (docs/flows.md).

The host raises a request for a member it hosts, twice with one Idempotency-Key (a retry): one
application at the origin. The origin reviews, approves (not before the request), publishes the
public notice (not back-dated before the approval) and pays after it; the host follows every
status. An application the origin raises itself is not sent to the host: nothing is
dead-lettered, and the fund never pays twice.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

from tests.inflow.support import dead_letters
from tests.support.harness import auth, wait_until
from tests.support.places import real_places, register_and_depart, report

ORIGIN, HOST = "371326", "310115"
ORIGIN_OP, HOST_OP = auth("origin_operator", ORIGIN), auth("host_operator", HOST)


def keyed() -> dict[str, str]:
    return ORIGIN_OP | {"Idempotency-Key": f"fund-{uuid.uuid4().hex}"}


def test_a_host_request_is_one_application_followed_to_payment_at_both_places(
    postgres_url: str, pg_database_url: str, nats_server
) -> None:
    with real_places(
        postgres_url, pg_database_url, nats_server.url, o=("outflow", ORIGIN), h=("inflow", HOST)
    ) as places:
        out, inn = places["o"], places["h"]
        fund = "/api/v1/fund"
        contributed = out.post(
            f"{fund}/contributions",
            json={"amount_fen": 500_000, "contributor": "县委组织部", "received_on": "2026-08-01"},
            headers=keyed(),
        )
        assert contributed.status_code == 201, contributed.text
        member_id, certificate = register_and_depart(out, HOST, random.Random(41), "2026-08-10")
        record_id = report(inn, HOST, member_id, certificate, "2026-08-12")

        ask = f"/api/v1/members/{record_id}/assistance-requests"
        body = {
            "amount_fen": 200_000,
            "reason": "工伤住院，家庭困难",
            "requested_on": "2026-09-01",
        }
        retry = HOST_OP | {"Idempotency-Key": "2026-09-01-req-0001"}
        first = inn.post(ask, json=body, headers=retry)
        again = inn.post(ask, json=body, headers=retry)
        assert first.status_code == again.status_code == 201, again.text
        assert first.json()["id"] == again.json()["id"]
        request_id = first.json()["id"]

        def at_origin() -> Any:
            items = out.get(f"{fund}/applications", headers=ORIGIN_OP).json()["items"]
            return items

        applications = wait_until(at_origin, message="the request at the origin")
        assert len(applications) == 1, applications
        app_id = applications[0]["application_id"]
        path = f"{fund}/applications/{app_id}"

        def host_status() -> str:
            return inn.get(f"/api/v1/assistance-requests/{request_id}", headers=HOST_OP).json()[
                "status"
            ]

        assert out.post(f"{path}/review", json={}, headers=keyed()).status_code == 200
        wait_until(lambda: host_status() == "under_review", message="under review at host")
        early = out.post(f"{path}/approval", json={"approved_on": "2026-08-31"}, headers=keyed())
        assert early.status_code == 422, early.text
        approved = out.post(f"{path}/approval", json={"approved_on": "2026-09-02"}, headers=keyed())
        assert approved.status_code == 200, approved.text
        back = out.post(f"{path}/notice", json={"notice_from": "2026-09-01"}, headers=keyed())
        assert back.status_code == 422, back.text
        assert back.json()["error"]["code"] == "assistance.date_order"
        notice = out.post(f"{path}/notice", json={"notice_from": "2026-09-03"}, headers=keyed())
        assert notice.status_code == 200, notice.text
        until = notice.json()["notice_until"]
        assert until == "2026-09-10"  # five working days after the first: Fri to Thu
        wait_until(lambda: host_status() == "in_public_notice", message="notice at host")
        running_notice = out.post(f"{path}/disbursement", json={"paid_on": until}, headers=keyed())
        assert running_notice.status_code == 422, running_notice.text
        pay = ORIGIN_OP | {"Idempotency-Key": "pay-2026-09-11-0001"}
        paid = out.post(f"{path}/disbursement", json={"paid_on": "2026-09-11"}, headers=pay)
        paid_again = out.post(f"{path}/disbursement", json={"paid_on": "2026-09-11"}, headers=pay)
        assert paid.status_code == paid_again.status_code == 200, paid_again.text
        wait_until(lambda: host_status() == "paid", message="paid at the host")

        # The origin's own application for the same member: not sent to the host.
        own = out.post(
            f"{fund}/applications",
            json={
                "member_id": member_id,
                "amount_fen": 50_000,
                "reason": "子女上学困难",
                "requested_on": "2026-09-15",
            },
            headers=keyed(),
        )
        assert own.status_code == 201, own.text
        own_path = f"{fund}/applications/{own.json()['application_id']}"
        assert out.post(f"{own_path}/review", json={}, headers=keyed()).status_code == 200
        rejected = out.post(
            f"{own_path}/rejection", json={"reason": "已获其他救助"}, headers=keyed()
        )
        assert rejected.status_code == 200, rejected.text

        balance = out.get(fund, headers=ORIGIN_OP).json()
        assert balance["balance_fen"] == 300_000 and balance["reserved_fen"] == 0
        ledger = out.get(f"{fund}/ledger", headers=ORIGIN_OP).json()
        assert [e["kind"] for e in ledger].count("disbursement") == 1
        requests = inn.get("/api/v1/assistance-requests", headers=HOST_OP).json()
        assert requests["total"] == 1
        assert dead_letters(nats_server.url, HOST) == []
