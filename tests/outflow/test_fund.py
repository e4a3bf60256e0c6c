"""The hardship assistance fund: ledger, application flow, public notice, idempotency, rules."""

from __future__ import annotations

from typing import Any

from tests.outflow.conftest import Api, error_code


def eligible_member(api: Api) -> str:
    member_id = api.departed(on="2026-01-10")
    r = api.c.post(
        f"/api/v1/members/{member_id}/contacts",
        json={"kind": "dues", "on": "2026-02-20"},
        headers=api.h,
    )
    assert r.status_code == 200, r.text
    return member_id


def contribute(api: Api, amount: int, key: str | None = None) -> Any:
    body = {"amount_fen": amount, "contributor": "县财政", "received_on": "2026-03-01"}
    return api.fund_post("/contributions", body, key)


def apply_for(api: Api, member_id: str, amount: int, key: str | None = None) -> Any:
    body = {
        "member_id": member_id,
        "amount_fen": amount,
        "reason": "因病住院",
        "requested_on": "2026-03-02",
    }
    return api.fund_post("/applications", body, key)


def approved(api: Api, member_id: str, amount: int) -> str:
    r = apply_for(api, member_id, amount)
    assert r.status_code == 201, r.text
    app_id = r.json()["application_id"]
    assert api.fund_post(f"/applications/{app_id}/review", {}).status_code == 200
    r = api.fund_post(f"/applications/{app_id}/approval", {"approved_on": "2026-03-03"})
    assert r.status_code == 200, r.text
    return app_id


def test_full_flow_with_public_notice_and_ledger(api: Api) -> None:
    assert contribute(api, 100_000).json()["balance_fen"] == 100_000
    member_id = eligible_member(api)
    app_id = approved(api, member_id, 60_000)
    fund = api.c.get("/api/v1/fund", headers=api.h).json()
    assert fund["balance_fen"] == 100_000 and fund["available_fen"] == 40_000

    early = api.fund_post(f"/applications/{app_id}/disbursement", {"paid_on": "2026-03-04"})
    assert early.status_code == 409 and error_code(early) == "assistance.wrong_state"
    # A notice back-dated before the approval would let the money be paid at once.
    back = api.fund_post(f"/applications/{app_id}/notice", {"notice_from": "2026-03-01"})
    assert back.status_code == 422 and error_code(back) == "assistance.date_order", back.text
    r = api.fund_post(f"/applications/{app_id}/notice", {"notice_from": "2026-03-04"})  # a Wed
    assert r.status_code == 200 and r.json()["notice_until"] == "2026-03-11"  # 5 working days
    running = api.fund_post(f"/applications/{app_id}/disbursement", {"paid_on": "2026-03-11"})
    assert running.status_code == 422 and error_code(running) == "assistance.notice_running"
    r = api.fund_post(f"/applications/{app_id}/disbursement", {"paid_on": "2026-03-12"})
    assert r.status_code == 200 and r.json()["status"] == "paid", r.text

    fund = api.c.get("/api/v1/fund", headers=api.h).json()
    assert fund == fund | {"balance_fen": 40_000, "reserved_fen": 0, "paid_fen": 60_000}
    ledger = api.c.get("/api/v1/fund/ledger", headers=api.h).json()
    assert [(e["kind"], e["amount_fen"], e["balance_after_fen"]) for e in ledger] == [
        ("contribution", 100_000, 100_000),
        ("reservation", 60_000, 100_000),
        ("disbursement", 60_000, 40_000),
    ]
    timeline = api.c.get(f"/api/v1/members/{member_id}/timeline", headers=api.h).json()
    assert "Paid" in [e["type"] for e in timeline]


def test_idempotency_key_replays_and_never_pays_twice(api: Api) -> None:
    first = contribute(api, 50_000, key="contrib-0001")
    again = contribute(api, 50_000, key="contrib-0001")
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    assert api.c.get("/api/v1/fund", headers=api.h).json()["balance_fen"] == 50_000
    reused = contribute(api, 70_000, key="contrib-0001")
    assert reused.status_code == 422 and error_code(reused) == "idempotency.key_reused"

    member_id = eligible_member(api)
    app_id = approved(api, member_id, 50_000)
    api.fund_post(f"/applications/{app_id}/notice", {"notice_from": "2026-03-04"})
    pay = {"paid_on": "2026-03-20"}
    r1 = api.fund_post(f"/applications/{app_id}/disbursement", pay, key="pay-app-1-xyz")
    r2 = api.fund_post(f"/applications/{app_id}/disbursement", pay, key="pay-app-1-xyz")
    assert r1.status_code == r2.status_code == 200 and r2.json() == r1.json()
    other_key = api.fund_post(f"/applications/{app_id}/disbursement", pay)
    assert other_key.status_code == 409  # already paid: a new key cannot pay twice either
    ledger = api.c.get("/api/v1/fund/ledger", headers=api.h).json()
    assert [e["kind"] for e in ledger].count("disbursement") == 1
    assert api.c.get("/api/v1/fund", headers=api.h).json()["balance_fen"] == 0

    missing = api.c.post(
        "/api/v1/fund/contributions",
        headers=api.h,
        json={"amount_fen": 1, "contributor": "x", "received_on": "2026-03-01"},
    )
    assert missing.status_code == 400 and error_code(missing) == "idempotency.key_required"


def test_amount_and_balance_rules(api: Api) -> None:
    for amount, code in ((0, "amount.not_positive"), (-5, "amount.not_positive")):
        r = contribute(api, amount)
        assert r.status_code == 422 and error_code(r) == code
    r = api.fund_post(
        "/contributions", {"amount_fen": 10.5, "contributor": "x", "received_on": "2026-03-01"}
    )
    assert r.status_code == 422 and error_code(r) == "request.invalid"
    contribute(api, 10_000)
    member_id = eligible_member(api)
    r = apply_for(api, member_id, 20_000)
    app_id = r.json()["application_id"]
    api.fund_post(f"/applications/{app_id}/review", {})
    over = api.fund_post(f"/applications/{app_id}/approval", {"approved_on": "2026-03-03"})
    assert over.status_code == 422 and error_code(over) == "fund.insufficient"
    r = api.fund_post(f"/applications/{app_id}/rejection", {"reason": "over budget"})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert api.c.get("/api/v1/fund", headers=api.h).json()["balance_fen"] == 10_000


def test_rejection_during_notice_releases_the_reservation(api: Api) -> None:
    contribute(api, 10_000)
    app_id = approved(api, eligible_member(api), 8_000)
    assert api.c.get("/api/v1/fund", headers=api.h).json()["available_fen"] == 2_000
    api.fund_post(f"/applications/{app_id}/notice", {"notice_from": "2026-03-04"})
    r = api.fund_post(f"/applications/{app_id}/rejection", {"reason": "objection upheld"})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    fund = api.c.get("/api/v1/fund", headers=api.h).json()
    assert fund["available_fen"] == 10_000 and fund["reserved_fen"] == 0
    kinds = [e["kind"] for e in api.c.get("/api/v1/fund/ledger", headers=api.h).json()]
    assert kinds == ["contribution", "reservation", "release"]


def test_inactive_member_is_not_eligible(api: Api) -> None:
    member_id = api.departed(on="2025-01-10")  # no activity or dues since
    r = apply_for(api, member_id, 1_000)
    assert r.status_code == 422 and error_code(r) == "assistance.ineligible_inactive"
    page = api.c.get("/api/v1/fund/applications", headers=api.h).json()
    assert page["total"] == 0


def test_approval_cannot_precede_the_request(api: Api) -> None:
    contribute(api, 50_000)
    r = apply_for(api, eligible_member(api), 10_000)
    app_id = r.json()["application_id"]
    assert api.fund_post(f"/applications/{app_id}/review", {}).status_code == 200
    early = api.fund_post(f"/applications/{app_id}/approval", {"approved_on": "2026-03-01"})
    assert early.status_code == 422 and error_code(early) == "assistance.date_order", early.text
