"""The information base: registration, corrections, departure with certificate, input rules."""

from __future__ import annotations

from datetime import date, timedelta

from tests.outflow.conftest import HOST, Api, error_code
from tests.support.factories import member_body


def test_register_correct_and_depart_with_certificate(api: Api) -> None:
    member_id = api.register(name="张伟")
    row = api.member(member_id)
    assert row["status"] == "at_home" and row["name"] == "张伟"
    assert "*" in row["resident_id_masked"] and "*" in row["phone_masked"]

    r = api.c.patch(f"/api/v1/members/{member_id}", json={"phone": "13900001111"}, headers=api.h)
    assert r.status_code == 200, r.text
    assert r.json()["corrected"] == ["phone"]
    assert api.member(member_id)["phone_masked"] == "139****1111"

    r = api.depart(member_id, expected_months=8)
    assert r.status_code == 201, r.text
    assert r.json()["certificate_no"] == "371326-000001"
    assert r.json()["should_transfer"] is True
    row = api.member(member_id)
    assert row["status"] == "departed" and row["host_place"] == HOST
    assert row["certificate_no"] == "371326-000001"

    timeline = api.c.get(f"/api/v1/members/{member_id}/timeline", headers=api.h).json()
    assert [e["type"] for e in timeline] == ["Registered", "DetailsCorrected", "Departed"]
    assert all(e["by"] == "test-origin_operator" for e in timeline)
    registered = timeline[0]["data"]
    assert "*" in registered["resident_id"] and "*" in registered["phone"]
    assert "*" in registered["household_address"]


def test_input_rules_give_stable_codes(api: Api) -> None:
    body = member_body()
    bad_check = body["resident_id"][:17] + ("0" if body["resident_id"][17] != "0" else "1")
    r = api.c.post("/api/v1/members", json=body | {"resident_id": bad_check}, headers=api.h)
    assert r.status_code == 422 and error_code(r) == "resident_id.check_character"
    from shared.validation import make_resident_id

    # A birth date that does not exist: Feb 30th, with a correct check character.
    first17 = "37132619900230012"
    from shared.validation import check_character

    r = api.c.post(
        "/api/v1/members",
        json=body | {"resident_id": first17 + check_character(first17)},
        headers=api.h,
    )
    assert r.status_code == 422 and error_code(r) == "resident_id.birth_date"

    member_id = api.register()
    again = api.c.post(
        "/api/v1/members",
        json=member_body()
        | {"resident_id": make_resident_id("371326", date(1990, 1, 1), 1), "sex": "male"},
        headers=api.h,
    )
    assert again.status_code == 201
    dup = api.c.post(
        "/api/v1/members",
        json=member_body()
        | {"resident_id": make_resident_id("371326", date(1990, 1, 1), 1), "sex": "male"},
        headers=api.h,
    )
    assert dup.status_code == 409 and error_code(dup) == "member.already_registered"

    assert error_code(api.depart(member_id, host="310100")) == "place.not_county"
    assert error_code(api.depart(member_id, host="999999")) == "place.unknown"
    future = (date.today() + timedelta(days=3)).isoformat()
    r = api.depart(member_id, on=future)
    assert r.status_code == 422 and error_code(r) == "departure.future_date"
    r = api.c.post(
        f"/api/v1/members/{member_id}/return", json={"returned_on": "2026-04-01"}, headers=api.h
    )
    assert r.status_code == 409 and error_code(r) == "member.wrong_state"
    r = api.c.post(
        "/api/v1/members/00000000-0000-0000-0000-000000000000/return",
        json={"returned_on": "2026-04-01"},
        headers=api.h,
    )
    assert r.status_code == 404 and error_code(r) == "member.not_found"
    r = api.c.patch(f"/api/v1/members/{member_id}", json={"employer": "x"}, headers=api.h)
    assert r.status_code == 409 and error_code(r) == "details.not_away"
    r = api.c.patch(f"/api/v1/members/{member_id}", json={"resident_id": "x"}, headers=api.h)
    assert r.status_code == 422 and error_code(r) == "request.invalid"


def test_roles_and_masking(api: Api, auditor: dict[str, str]) -> None:
    member_id = api.departed()
    r = api.c.post("/api/v1/members", json=member_body(), headers=auditor)
    assert r.status_code == 403 and error_code(r) == "auth.forbidden"
    seen = api.c.get("/api/v1/members", headers=auditor).json()["items"][0]
    assert seen["member_id"] == member_id
    assert seen["name"].endswith("*") and "*" in seen["resident_id_masked"]
    from tests.support.harness import auth

    other = auth("origin_operator", "371302")
    assert api.c.get("/api/v1/members", headers=other).status_code == 403
    assert api.c.get("/api/v1/members").status_code == 401


def test_the_record_must_agree_with_its_resident_id_number(api: Api) -> None:
    """GB 11643: the 17th character is odd for men; the birth date makes a member 18 or older."""
    from datetime import date, timedelta

    from shared.validation import make_resident_id

    man = make_resident_id("371326", date(1990, 1, 1), 13)
    r = api.c.post(
        "/api/v1/members",
        json=member_body() | {"resident_id": man, "sex": "female"},
        headers=api.h,
    )
    assert r.status_code == 422 and error_code(r) == "member.sex_mismatch", r.text
    young = date.today() - timedelta(days=17 * 365)
    minor = make_resident_id("371326", young, 13)
    r = api.c.post(
        "/api/v1/members", json=member_body() | {"resident_id": minor, "sex": "male"}, headers=api.h
    )
    assert r.status_code == 422 and error_code(r) == "member.under_age", r.text
    ok = api.c.post(
        "/api/v1/members", json=member_body() | {"resident_id": man, "sex": "male"}, headers=api.h
    )
    assert ok.status_code == 201, ok.text
    member_id = ok.json()["member_id"]
    wrong = api.c.patch(f"/api/v1/members/{member_id}", json={"sex": "female"}, headers=api.h)
    assert wrong.status_code == 422 and error_code(wrong) == "member.sex_mismatch", wrong.text


def test_a_writes_answer_is_what_a_read_shows_next(api: Api, auditor: dict[str, str]) -> None:
    """Writes answer with the member from the store, without waiting for the read models; the
    read that follows waits for them. Both must show the same member, field for field."""
    member_id = api.departed()
    path = f"/api/v1/members/{member_id}"
    writes = [
        ("/contacts", {"kind": "dues", "on": "2026-03-05"}),
        (
            "/verifications",
            {"checked_on": "2026-03-06", "file_ok": True, "address_ok": True, "contact_ok": True},
        ),
        ("/lost", {"reason_code": "went_abroad", "on": "2026-09-10"}),
    ]
    for suffix, body in writes:
        written = api.c.post(path + suffix, json=body, headers=api.h)
        assert written.status_code == 200, written.text
        assert "X-Liangdi-Read-Model" not in written.headers
        assert written.json() == api.member(member_id), suffix
    # An auditor reads the same member masked, as the read model serves it.
    masked = api.c.get(path, headers=auditor).json()
    assert masked["name"] != api.member(member_id)["name"] and masked["status"] == "lost"
