"""Public notice periods (公示) count working days as the State Council arranges them each year."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.outflow.domain.calendar import add_working_days, is_working_day


def test_national_day_2026_holidays_and_make_up_saturday() -> None:
    # 2026: 10月1日至7日放假调休，9月20日（周日）、10月10日（周六）上班.
    assert not is_working_day(date(2026, 10, 1)) and not is_working_day(date(2026, 10, 7))
    assert is_working_day(date(2026, 9, 20)) and is_working_day(date(2026, 10, 10))
    # From Tue 29 Sep: 30 Sep, 8 Oct, 9 Oct, Sat 10 Oct (调休), Mon 12 Oct.
    assert add_working_days(date(2026, 9, 29), 5) == date(2026, 10, 12)


def test_spring_festival_2026_is_not_counted() -> None:
    # 2026 春节: 2月15日至23日放假; 2月14日（周六）、2月28日（周六）上班.
    assert add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert add_working_days(date(2026, 2, 14), 1) == date(2026, 2, 24)


def test_a_year_without_a_published_arrangement_counts_weekdays() -> None:
    assert add_working_days(date(2099, 6, 5), 5) == date(2099, 6, 12)  # Fri → next Fri


@given(st.dates(date(2004, 1, 1), date(2030, 12, 31)), st.integers(1, 30))
def test_the_end_of_a_notice_is_a_working_day_after_exactly_n_working_days(
    start: date, days: int
) -> None:
    end = add_working_days(start, days)
    assert is_working_day(end) and end > start
    between = [start + timedelta(d) for d in range(1, (end - start).days + 1)]
    assert sum(is_working_day(d) for d in between) == days
