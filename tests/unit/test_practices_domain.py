"""Rules of the practices' domain (docs/practices.md) without services: when a level is due,
how long a certificate is valid, what a service entry may hold."""

from __future__ import annotations

from datetime import date

import pytest

from services.inflow.domain.errors import RuleViolation, WrongState
from services.inflow.domain.organisation import HostOrganisation, Thresholds
from services.inflow.domain.service_record import ServiceRecord
from services.outflow.domain.certificate_changes import valid_until

T = Thresholds()  # 3 branches or 51 members: a general branch; 100 members: a committee


@pytest.mark.parametrize(
    ("branches", "members", "due"),
    [
        (1, 3, "branches"),
        (2, 50, "branches"),
        (3, 9, "general_branch"),
        (1, 51, "general_branch"),
        (6, 99, "general_branch"),
        (6, 178, "committee"),  # Pingyi, 2010
    ],
)
def test_the_level_the_counts_call_for(branches: int, members: int, due: str) -> None:
    assert T.due(branches, members) == due


def test_a_proposal_grows_the_tree_one_decision_at_a_time() -> None:
    tree = HostOrganisation("310115", "371326")
    three = [{"branch_id": f"b{i}", "name": f"第{i}支部", "members": 3} for i in range(3)]
    with pytest.raises(RuleViolation) as too_far:
        tree.propose(
            to_level="committee",
            name="党委",
            reason="",
            branches=three,
            thresholds=T,
            today=date(2026, 5, 1),
            recorded_by="op",
        )
    assert too_far.value.code == "organisation.threshold_not_met"
    pid = tree.propose(
        to_level="general_branch",
        name="党总支",
        reason="",
        branches=three,
        thresholds=T,
        today=date(2026, 5, 1),
        recorded_by="op",
    )
    with pytest.raises(WrongState):
        tree.propose(
            to_level="general_branch",
            name="x",
            reason="",
            branches=three,
            thresholds=T,
            today=date(2026, 5, 1),
            recorded_by="op",
        )
    with pytest.raises(WrongState):
        tree.decide(
            proposal_id="other",
            decision="approved",
            decided_by="县委组织部",
            decided_on=date(2026, 5, 2),
            reason="",
        )
    tree.decide(
        proposal_id=pid,
        decision="approved",
        decided_by="县委组织部",
        decided_on=date(2026, 5, 2),
        reason="",
    )
    assert (tree.level, tree.name, tree.pending) == ("general_branch", "党总支", None)
    assert [h["step"] for h in tree.history] == ["proposed", "approved_and_applied"]


@pytest.mark.parametrize(
    ("issued", "months", "until"),
    [
        (date(2026, 3, 1), 12, date(2027, 2, 28)),
        (date(2026, 3, 1), 6, date(2026, 8, 31)),
        (
            date(2026, 8, 31),
            6,
            date(2027, 2, 27),
        ),  # no 31 February: through the day before the 28th
        (date(2024, 2, 29), 12, date(2025, 2, 27)),
    ],
)
def test_a_certificate_is_valid_through_the_day_before(issued: date, months: int, until: date):
    assert valid_until(issued, months) == until


def test_service_hours_are_bounded_and_after_arrival() -> None:
    record = ServiceRecord(
        member_record_id="00000000-0000-0000-0000-000000000001",
        origin_member_id="m",
        origin_place="371326",
        host_place="310115",
    )
    entry = {
        "entry_id": "e",
        "team": "志愿服务队",
        "kind": "volunteer_team",
        "reported_on": date(2026, 3, 5),
        "today": date(2026, 6, 1),
        "recorded_by": "op",
        "to_origin": True,
    }
    for hours, on, code in (
        (0, date(2026, 4, 1), "service.hours"),
        (25, date(2026, 4, 1), "service.hours"),
        (2, date(2026, 3, 4), "service.before_arrival"),
        (2, date(2026, 6, 2), "service.future_date"),
    ):
        with pytest.raises(RuleViolation) as refused:
            record.serve(hours=hours, served_on=on, **entry)
        assert refused.value.code == code
    record.serve(hours=2.5, served_on=date(2026, 4, 1), **entry)
    assert record.year_summary(2026)["service_hours"] == 2.5
    assert record.year_summary(2025)["service_hours"] == 0
