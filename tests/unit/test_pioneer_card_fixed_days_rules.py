"""The rules of the pioneer card and of the fixed days, without a service (docs/practices.md)."""

from __future__ import annotations

import inspect
import re
from datetime import date
from typing import Annotated, Any
from uuid import uuid4

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from services.inflow.domain.errors import RuleViolation, WrongState
from services.inflow.domain.fixed_days import FixedDays, day_in_month, occurrences
from services.inflow.domain.pioneer_card import CardRegister, PioneerCard, district_of
from services.inflow.entrypoints import practice_schemas
from services.inflow.entrypoints.card_images import _modules_path, qr_of


def test_a_card_number_names_its_district() -> None:
    assert district_of("310115-XF-000001", "310115") == "310115"
    with pytest.raises(RuleViolation) as foreign:
        district_of("310112-XF-000001", "310115")
    assert foreign.value.code == "card.foreign" and "310112" in foreign.value.message
    with pytest.raises(RuleViolation) as malformed:
        district_of("310115-000001", "310115")  # an activity certificate's number, not a card
    assert malformed.value.code == "card.malformed"


def test_the_register_numbers_without_gaps_and_one_valid_card_each() -> None:
    register = CardRegister("310115")
    member = uuid4()
    first = register.next_number()
    register.issue(first, str(member))
    assert first == "310115-XF-000001" and register.next_number() == "310115-XF-000002"
    with pytest.raises(WrongState) as twice:
        register.ensure_no_valid_card(member)
    assert twice.value.code == "card.already_issued"
    register.release(first, str(member))
    register.ensure_no_valid_card(member)  # revoked: a new card may be issued


def _card(**overrides: Any) -> PioneerCard:
    values: dict[str, Any] = {
        "number": "310115-XF-000001",
        "host_place": "310115",
        "member_id": uuid4(),
        "member_status": "reported",
        "issued_on": date(2026, 3, 6),
        "issued_by": "op",
    }
    return PioneerCard.issue(**(values | overrides))


def test_a_card_only_for_a_member_who_reported_and_revoked_once() -> None:
    with pytest.raises(WrongState) as expected:
        _card(member_status="expected")
    assert expected.value.code == "card.member_not_reported"
    card = _card()
    card.ensure_valid()
    with pytest.raises(RuleViolation):
        card.revoke(reason="lost", revoked_on=date(2026, 3, 1), revoked_by="op")
    card.revoke(reason="lost", revoked_on=date(2026, 5, 1), revoked_by="op")
    with pytest.raises(WrongState) as refused:
        card.ensure_valid()
    assert refused.value.code == "card.revoked" and "2026-05-01" in refused.value.message
    with pytest.raises(WrongState):
        card.revoke(reason="lost", revoked_on=date(2026, 5, 2), revoked_by="op")


def test_the_qr_code_is_a_full_qr_code_of_the_number_only() -> None:
    qr = qr_of("310115-XF-000001")
    assert not qr.is_micro  # phone scanners read QR codes, rarely Micro QR
    path, side = _modules_path("310115-XF-000001")
    assert side == qr.symbol_size(border=4)[0] and path.startswith("M4 4h7")  # finder pattern
    # The printable card draws exactly segno's modules, run by run.
    drawn = set()
    for run in re.findall(r"M(\d+) (\d+)h(\d+)", path):
        x, y, length = map(int, run)
        drawn |= {(x + i, y) for i in range(length)}
    dark = {
        (x, y)
        for y, row in enumerate(qr.matrix_iter(border=4))
        for x, module in enumerate(row)
        if module
    }
    assert drawn == dark


def test_a_fixed_day_past_the_end_of_a_month_falls_on_its_last_day() -> None:
    assert day_in_month(2026, 2, 31) == date(2026, 2, 28)
    assert day_in_month(2028, 2, 30) == date(2028, 2, 29)
    assert day_in_month(2026, 11, 31) == date(2026, 11, 30)
    assert occurrences(25, date(2026, 11, 26), date(2027, 1, 25)) == [
        date(2026, 12, 25),
        date(2027, 1, 25),
    ]


def test_a_moved_fixed_day_keeps_its_earlier_days() -> None:
    days = FixedDays(branch_id=str(uuid4()), host_place="310115")
    days.set_day(kind="party_day", day_of_month=25, since=date(2026, 1, 1), set_by="op")
    days.set_day(kind="party_day", day_of_month=10, since=date(2026, 4, 1), set_by="op")
    scheduled = [o.on for o in days.scheduled(date(2026, 2, 1), date(2026, 5, 31))]
    assert scheduled == [date(2026, 2, 25), date(2026, 3, 25), date(2026, 4, 10), date(2026, 5, 10)]
    with pytest.raises(RuleViolation) as earlier:
        days.set_day(kind="party_day", day_of_month=5, since=date(2026, 3, 1), set_by="op")
    assert earlier.value.code == "fixed_day.changed_later"
    days.set_day(kind="party_day", day_of_month=None, since=date(2026, 6, 1), set_by="op")
    assert days.scheduled(date(2026, 6, 1), date(2026, 12, 31)) == []  # stopped


def test_missed_in_a_row_counts_only_days_the_member_was_expected_at() -> None:
    days = FixedDays(branch_id=str(uuid4()), host_place="310115")
    days.set_day(kind="service_day", day_of_month=25, since=date(2026, 1, 1), set_by="op")
    a, late = "a", "late"
    for month, members, came in (
        (1, [a], [a]),
        (2, [a], []),
        (3, [a, late], [late]),  # `late` joined the branch in March
        (4, [a, late], []),
    ):
        days.record_attendance(
            kind="service_day",
            held_on=date(2026, month, 25),
            members=members,
            attended=came,
            activity_id=str(month),
            recorded_by="op",
        )
    runs = {r.member_id: r for r in days.missed_runs([a, late])}
    assert runs[a].missed == [date(2026, m, 25) for m in (2, 3, 4)]
    assert runs[a].last_attended_on == date(2026, 1, 25)
    assert runs[late].missed == [date(2026, 4, 25)]
    with pytest.raises(RuleViolation) as stranger:
        days.record_attendance(
            kind="service_day",
            held_on=date(2026, 5, 25),
            members=[a],
            attended=["someone"],
            activity_id="5",
            recorded_by="op",
        )
    assert stranger.value.code == "fixed_day.not_in_branch"


# --- every field of the new request bodies is bounded --------------------------------------------


def _fields() -> list[tuple[type[BaseModel], str]]:
    return [
        (cls, name)
        for _, cls in inspect.getmembers(practice_schemas, inspect.isclass)
        if issubclass(cls, BaseModel)
        and cls.__module__ == practice_schemas.__name__
        and cls.model_config.get("extra") == "forbid"
        for name in cls.model_fields
    ]


@pytest.mark.parametrize(("model", "name"), _fields(), ids=lambda x: getattr(x, "__name__", x))
def test_no_field_of_a_request_forgets_its_bound(model: type[BaseModel], name: str) -> None:
    info = model.model_fields[name]
    adapter = TypeAdapter(
        Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
    )  # type: ignore[misc]
    schema = str(adapter.json_schema())
    if "'string'" in schema and "uuid" not in schema:
        for value in ("x\u0000", "x" * 10_001):
            with pytest.raises(ValidationError):
                adapter.validate_python(value)
    if "'date'" in schema:
        for value in ("1800-01-01", "9999-12-31"):
            with pytest.raises(ValidationError):
                adapter.validate_python(value)
    if "'integer'" in schema:
        with pytest.raises(ValidationError):
            adapter.validate_python(2**63)
    if "'array'" in schema:
        assert "maxItems" in schema
