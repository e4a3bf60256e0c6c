"""No departure, contact, move or report is dated before the member's birth (or in the future);
records that predate registration in the system are normal (the base is built from old files)."""

from __future__ import annotations

from datetime import date

import pytest

from services.outflow.domain.errors import RuleViolation, WrongState
from services.outflow.domain.member import MobileMember
from shared.validation import make_resident_id

TODAY = date(2026, 11, 30)


def member(born: date = date(1990, 5, 17)) -> MobileMember:
    return MobileMember(
        origin_place="371326",
        person_key="k",
        name="王芳",
        resident_id=make_resident_id("371326", born, 2),
        sex="female",
        phone="13912345678",
        origin_branch="平邑镇第1村党支部",
        household_address="平邑镇1号",
        recorded_by="t",
    )


def depart(m: MobileMember, on: date) -> None:
    m.depart(
        host_place="310115",
        employer="e",
        host_address="a",
        reason="务工",
        expected_months=4,
        departed_on=on,
        certificate_no="371326-000001",
        today=TODAY,
        recorded_by="t",
    )


def test_contact_before_birth_or_in_the_future_is_refused_an_old_one_is_kept() -> None:
    m = member()
    with pytest.raises(RuleViolation) as before:
        m.record_contact(
            kind="dues",
            on=date(1990, 5, 16),
            source="origin",
            note="",
            recorded_by="t",
            today=TODAY,
        )
    assert before.value.code == "contact.before_birth"
    with pytest.raises(RuleViolation) as future:
        m.record_contact(
            kind="dues",
            on=date(2026, 12, 1),
            source="origin",
            note="",
            recorded_by="t",
            today=TODAY,
        )
    assert future.value.code == "contact.future_date"
    # Long before the member was registered here: the county's paper files go back that far.
    m.record_contact(
        kind="dues", on=date(2008, 1, 2), source="origin", note="", recorded_by="t", today=TODAY
    )
    assert m.last_contact_on == date(2008, 1, 2)


def test_departure_before_birth_is_refused() -> None:
    with pytest.raises(RuleViolation) as refused:
        depart(member(), date(1990, 5, 16))
    assert refused.value.code == "departure.before_birth"


def test_a_move_needs_a_departure_and_cannot_precede_it_or_the_report() -> None:
    m = member()
    move = {
        "to_host_place": "310112",
        "certificate": "endorse",
        "new_certificate_no": None,
        "employer": "e",
        "host_address": "a",
        "today": TODAY,
        "recorded_by": "t",
    }
    with pytest.raises(WrongState):
        m.move_to_host(moved_on=date(2026, 9, 1), **move)
    depart(m, date(2026, 3, 1))
    m.record_host_report(
        host_place="310115", reported_on=date(2026, 3, 5), certificate_no="371326-000001"
    )
    for day, code in (
        (date(2026, 2, 28), "move.before_departure"),
        (date(2026, 3, 4), "move.before_report"),
        (date(2026, 12, 1), "move.future_date"),
    ):
        with pytest.raises(RuleViolation) as refused:
            m.move_to_host(moved_on=day, **move)
        assert refused.value.code == code
    with pytest.raises(RuleViolation) as same:
        m.move_to_host(moved_on=date(2026, 9, 1), **{**move, "to_host_place": "310115"})
    assert same.value.code == "move.same_place"
    with pytest.raises(RuleViolation) as unnumbered:
        m.move_to_host(moved_on=date(2026, 9, 1), **{**move, "certificate": "new"})
    assert unnumbered.value.code == "move.certificate"
    m.move_to_host(moved_on=date(2026, 9, 1), **move)
    assert (m.host_place, m.reported_on, m.status) == ("310112", None, "departed")
    assert m.hosted_before_by("310115") and m.certificate_no == "371326-000001"
