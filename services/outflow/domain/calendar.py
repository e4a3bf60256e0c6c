"""Date arithmetic the rules need: quarters, months, working days."""

from __future__ import annotations

from datetime import date, timedelta


def quarter_of(day: date) -> str:
    """``"2026Q2"`` for any day in April-June 2026."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def add_working_days(start: date, days: int) -> date:
    """The ``days``-th working day (Monday to Friday) after ``start``.

    Public holidays are not known to this calendar; an operator who needs them lengthens the
    configured notice period instead.
    """
    day, left = start, days
    while left > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return day
