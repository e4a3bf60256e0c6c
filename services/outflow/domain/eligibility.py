"""Who may receive hardship assistance (困难流动党员救助, under the fund's rules): not rated not
competent in the last N years, and some activity or dues within the last M days.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from services.outflow.domain.errors import RuleViolation
from shared.validation.grades import Grade


def check_eligible(
    *,
    as_of: date,
    final_grades: Mapping[int, str],
    last_participation_on: date | None,
    participation_baseline: date,
    grade_years: int,
    inactive_days: int,
) -> None:
    """Raises ``assistance.ineligible`` naming the rule; ``final_grades`` maps year → grade."""
    recent = [
        y
        for y, g in final_grades.items()
        if g == Grade.NOT_COMPETENT and y >= as_of.year - grade_years
    ]
    if recent:
        raise RuleViolation(
            f"rated not competent in {min(recent)}, within the last {grade_years} years",
            "assistance.ineligible_grade",
        )
    since = last_participation_on or participation_baseline
    if as_of - since > timedelta(days=inactive_days):
        raise RuleViolation(
            f"no activity or dues since {since} (more than {inactive_days} days)",
            "assistance.ineligible_inactive",
        )
