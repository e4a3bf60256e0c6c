"""The receipt (回执) of a transfer letter must fit the letter: its organisation, its host, and a
member still there (docs/flows.md, "Transfer of membership"). Domain rules, no backend."""

from __future__ import annotations

from datetime import date

import pytest

from services.outflow.domain.errors import DomainError, RuleViolation, WrongState
from services.outflow.domain.member import MobileMember

ORG = "张江镇 流动党员党支部"
TODAY = date(2026, 11, 29)


def _member_with_letter() -> tuple[MobileMember, str]:
    member = MobileMember(
        origin_place="371326",
        person_key="k-1",
        name="王芳",
        resident_id="371326199001011234",
        sex="male",
        phone="13800000000",
        origin_branch="平邑县某村党支部",
        household_address="平邑县某村",
        recorded_by="t",
    )
    member.depart(
        host_place="310115",
        employer="张江软件园",
        host_address="上海市某路1号",
        reason="务工",
        expected_months=12,
        departed_on=date(2026, 3, 1),
        certificate_no="371326-000001",
        today=TODAY,
        recorded_by="t",
    )
    letter_no = member.issue_letter(
        receiving_organisation=ORG,
        issued_on=date(2026, 9, 1),
        validity_days=90,
        recorded_by="t",
        today=TODAY,
    )
    return member, letter_no


def _receive(member: MobileMember, letter_no: str, organisation: str) -> None:
    member.receive_transfer(
        letter_no=letter_no,
        received_on=date(2026, 9, 10),
        receiving_organisation=organisation,
        recorded_by="t",
        today=TODAY,
    )


def _refused(member: MobileMember, letter_no: str, organisation: str = ORG) -> DomainError:
    with pytest.raises(DomainError) as caught:
        _receive(member, letter_no, organisation)
    assert member.status == "departed" and not member.receipt_recorded(letter_no)
    return caught.value


def test_the_receipt_names_the_letters_organisation() -> None:
    member, letter_no = _member_with_letter()
    error = _refused(member, letter_no, "张江镇党委")
    assert isinstance(error, RuleViolation)
    assert error.code == "transfer.receipt_wrong_organisation"
    _receive(member, letter_no, "  张江镇  流动党员党支部 ")  # spacing is not another name
    assert member.status == "transferred" and member.receipt_recorded(letter_no)
    assert member.letters[-1]["host_place"] == "310115"


def test_the_member_must_still_be_at_the_letters_host() -> None:
    member, letter_no = _member_with_letter()
    # No operation moves a member while a letter is open today; the rule guards any that will.
    member.host_place = "310112"
    error = _refused(member, letter_no)
    assert isinstance(error, RuleViolation) and error.code == "transfer.receipt_wrong_host"


def test_a_member_who_left_the_host_cannot_be_received_there() -> None:
    member, letter_no = _member_with_letter()
    member.record_left_host(
        host_place="310115", left_on=date(2026, 9, 5), reason="moved_on", destination="苏州"
    )
    error = _refused(member, letter_no)
    assert isinstance(error, WrongState) and error.code == "transfer.member_left_host"
