"""Date arithmetic the rules need: quarters, months, working days.

Working days follow the State Council's yearly holiday arrangement (国务院办公厅关于部分节假日安排的
通知): statutory holidays are not working days, and the make-up working days (调休) that fall on a
weekend are. `chinesecalendar` carries those notices; for a year it does not cover yet (the notice
is published late in the previous year), Monday to Friday is the best that can be said.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar


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


def is_working_day(day: date) -> bool:
    """A working day under the year's holiday arrangement (weekdays where none is published)."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # a year the published arrangements do not cover
        return day.weekday() < 5


def add_working_days(start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` (公示 periods count working days)."""
    day, left = start, days
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day
