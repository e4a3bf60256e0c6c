"""Quarterly verification, lost contact, return home and transfer out, through the HTTP API."""

from __future__ import annotations

from tests.outflow.conftest import Api, error_code


def post(api: Api, member_id: str, path: str, body: dict) -> object:
    return api.c.post(f"/api/v1/members/{member_id}{path}", json=body, headers=api.h)


def ids(page: dict) -> set[str]:
    return {m["member_id"] for m in page["items"]}


def test_quarterly_verification_and_overdue_list(api: Api) -> None:
    checked, unchecked = api.departed(on="2026-01-10"), api.departed(on="2026-01-10")
    r = post(
        api,
        checked,
        "/verifications",
        {
            "checked_on": "2026-04-05",
            "file_ok": True,
            "address_ok": True,
            "contact_ok": True,
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["next_check_due"] == "2026-07-06"
    overdue = api.c.get("/api/v1/verifications/overdue?as_of=2026-05-01", headers=api.h).json()
    assert ids(overdue) == {unchecked}
    filtered = api.c.get(
        "/api/v1/members?overdue_check=false&status=departed&as_of=2026-05-01", headers=api.h
    ).json()
    assert ids(filtered) == {checked}
    later = api.c.get("/api/v1/verifications/overdue?as_of=2026-08-01", headers=api.h).json()
    assert ids(later) == {checked, unchecked}
    at_home = api.register()
    r = post(
        api,
        at_home,
        "/verifications",
        {
            "checked_on": "2026-04-05",
            "file_ok": True,
            "address_ok": True,
            "contact_ok": True,
        },
    )
    assert r.status_code == 409 and error_code(r) == "member.wrong_state"


def test_lost_contact_suspension_restoration_and_removal(api: Api) -> None:
    quiet, active = api.departed(on="2025-01-10"), api.departed(on="2025-01-10")
    r = post(api, active, "/contacts", {"kind": "dues", "on": "2025-06-01"})
    assert r.status_code == 200 and r.json()["last_contact_on"] == "2025-06-01"
    page = api.c.get("/api/v1/lost-contact/candidates?as_of=2025-08-01", headers=api.h).json()
    assert ids(page) == {quiet}

    early = post(api, active, "/lost", {"reason_code": "went_abroad", "on": "2025-08-01"})
    assert early.status_code == 422 and error_code(early) == "lost_contact.not_due"
    bad = post(api, quiet, "/lost", {"reason_code": "vanished", "on": "2025-08-01"})
    assert bad.status_code == 422 and error_code(bad) == "lost_contact.reason_unknown"
    r = post(api, quiet, "/lost", {"reason_code": "work_unit_changed", "on": "2025-08-01"})
    assert r.status_code == 200 and r.json()["status"] == "lost"
    assert r.json()["lost_reason"] == "work_unit_changed"

    early_removal = post(api, quiet, "/removal", {"on": "2025-09-01", "decision": "x"})
    assert early_removal.status_code == 409
    r = post(api, quiet, "/suspension", {"on": "2025-09-01", "decision": "组织部〔2025〕1号"})
    assert r.status_code == 200 and r.json()["status"] == "suspended"
    # Contact does not undo a suspension (a decision): it is recorded, and it blocks removal.
    r = post(api, quiet, "/contacts", {"kind": "activity", "on": "2025-10-01"})
    assert r.json()["status"] == "suspended" and r.json()["suspended_on"] == "2025-09-01"
    assert r.json()["last_contact_on"] == "2025-10-01"
    r = post(api, quiet, "/removal", {"on": "2025-10-05", "decision": "d"})
    assert r.status_code == 422 and error_code(r) == "lost_contact.contact_restored", r.text
    # Only the origin's explicit decision restores the membership (恢复党籍).
    r = post(api, quiet, "/restoration", {"on": "2025-10-02", "note": "恢复党籍决定"})
    assert r.json()["status"] == "departed" and r.json()["suspended_on"] is None

    r = post(api, quiet, "/lost", {"reason_code": "other", "on": "2026-05-01"})
    assert r.json()["status"] == "lost", r.text
    r = post(api, quiet, "/suspension", {"on": "2024-01-01", "decision": "x"})
    assert r.status_code == 422 and error_code(r) == "lost_contact.order"
    r = post(api, quiet, "/suspension", {"on": "2026-05-02", "decision": "d"})
    assert r.json()["suspended_on"] == "2026-05-02"
    r = post(api, quiet, "/removal", {"on": "2026-06-01", "decision": "d"})
    assert r.status_code == 422 and error_code(r) == "lost_contact.removal_too_early"
    r = post(api, quiet, "/restoration", {"on": "2026-06-01", "note": "found"})
    assert r.json()["status"] == "departed"


def test_removal_two_years_after_suspension_closes_the_record(api: Api) -> None:
    member_id = api.departed(on="2023-01-10")
    post(api, member_id, "/lost", {"reason_code": "went_abroad", "on": "2023-08-01"})
    post(api, member_id, "/suspension", {"on": "2023-09-01", "decision": "d"})
    r = post(api, member_id, "/removal", {"on": "2025-09-01", "decision": "d2"})
    assert r.status_code == 200 and r.json()["status"] == "removed" and r.json()["closed"]
    r = post(api, member_id, "/contacts", {"kind": "dues", "on": "2025-10-01"})
    assert r.status_code == 409 and error_code(r) == "member.closed"


def test_return_home_then_depart_again_gets_a_new_certificate(api: Api) -> None:
    member_id = api.departed(on="2026-01-10")
    r = post(api, member_id, "/return", {"returned_on": "2026-01-05"})
    assert r.status_code == 422 and error_code(r) == "return.before_departure"
    r = post(api, member_id, "/return", {"returned_on": "2026-05-01"})
    assert r.status_code == 200 and r.json()["status"] == "returned"
    assert r.json()["host_place"] is None
    again = api.depart(member_id, on="2026-06-01")
    assert again.status_code == 201 and again.json()["certificate_no"] == "371326-000002"


def test_transfer_letter_states_and_receipt_closes_record(api: Api) -> None:
    member_id = api.departed(on="2026-01-10")
    org = {"receiving_organisation": "张江镇流动党员党支部"}
    r = post(api, member_id, "/transfer-letters", org | {"issued_on": "2026-02-01"})
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["state"] == "expired" and first["valid_until"] == "2026-05-02"  # 90 days
    assert first["receipt_overdue"] is True
    again = post(api, member_id, "/transfer-letters", org | {"issued_on": "2026-02-02"})
    assert again.status_code == 409 and error_code(again) == "transfer.letter_open"
    late = post(
        api,
        member_id,
        f"/transfer-letters/{first['letter_no']}/receipt",
        {"received_on": "2026-06-01"} | org,
    )
    assert late.status_code == 422 and error_code(late) == "transfer.letter_expired"
    expired = api.c.get("/api/v1/transfer-letters?state=expired", headers=api.h).json()
    assert [x["letter_no"] for x in expired] == [first["letter_no"]]

    r = post(
        api,
        member_id,
        f"/transfer-letters/{first['letter_no']}/reissue",
        {"issued_on": "2026-10-01", "validity_days": 120},
    )
    assert r.status_code == 201, r.text
    second = r.json()
    assert second["letter_no"].endswith("JS02") and second["valid_until"] == "2027-01-29"
    letters = api.c.get(f"/api/v1/members/{member_id}/transfer-letters", headers=api.h).json()
    assert [x["state"] for x in letters] == ["reissued", "issued"]
    r = post(api, member_id, "/return", {"returned_on": "2026-10-02"})
    assert r.status_code == 409 and error_code(r) == "transfer.letter_open"

    r = post(
        api,
        member_id,
        f"/transfer-letters/{second['letter_no']}/receipt",
        {"received_on": "2026-10-20", "receiving_organisation": "张江镇党委"},
    )
    # The receipt must come from the organisation the letter was issued to.
    assert r.status_code == 422 and error_code(r) == "transfer.receipt_wrong_organisation"
    r = post(
        api,
        member_id,
        f"/transfer-letters/{second['letter_no']}/receipt",
        {"received_on": "2026-10-20"} | org,
    )
    assert r.status_code == 200 and r.json()["state"] == "received"
    row = api.member(member_id)
    assert row["status"] == "transferred" and row["closed"] is True
    r = api.c.patch(f"/api/v1/members/{member_id}", json={"name": "新名"}, headers=api.h)
    assert r.status_code == 409 and error_code(r) == "member.closed"
    timeline = api.c.get(f"/api/v1/members/{member_id}/timeline", headers=api.h).json()
    assert timeline[-1]["type"] == "TransferReceived"  # history stays readable


def test_void_letter(api: Api) -> None:
    member_id = api.departed(on="2026-01-10")
    r = post(
        api,
        member_id,
        "/transfer-letters",
        {"receiving_organisation": "x", "issued_on": "2026-11-01"},
    )
    no = r.json()["letter_no"]
    r = post(api, member_id, f"/transfer-letters/{no}/void", {"reason": "plans changed"})
    assert r.status_code == 200 and r.json()["state"] == "void"
    r = post(api, member_id, f"/transfer-letters/{no}/void", {"reason": "again"})
    assert r.status_code == 409 and error_code(r) == "transfer.letter_not_open"
    r = post(api, member_id, "/transfer-letters/nope/void", {"reason": "x"})
    assert r.status_code == 404 and error_code(r) == "transfer.letter_unknown"
