"""The period a leadership report covers, and the shares it states.

A report is asked for by dates (from, to) or by a year with an optional quarter; the quarters it
touches are the units of the quarterly verification (docs/operations.md, "Reports and exports").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from services.outflow.domain.calendar import quarter_of
from services.outflow.domain.errors import RuleViolation


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @classmethod
    def of(
        cls,
        *,
        start: date | None = None,
        end: date | None = None,
        year: int | None = None,
        quarter: int | None = None,
        today: date,
    ) -> Period:
        """From dates, or a year (and quarter); with neither, the current year up to today."""
        if year is not None or quarter is not None:
            if start is not None or end is not None:
                raise RuleViolation(
                    "give either from/to dates or a year (and quarter), not both",
                    "report.period_ambiguous",
                )
            if year is None:
                raise RuleViolation("a quarter needs its year", "report.quarter_without_year")
            if quarter is None:
                return cls(date(year, 1, 1), date(year, 12, 31))
            if not 1 <= quarter <= 4:
                raise RuleViolation("quarter is 1 to 4", "report.quarter_unknown")
            first = date(year, 3 * quarter - 2, 1)
            return cls(first, _quarter_end(first))
        start = start or date(today.year, 1, 1)
        end = end or today
        if end < start:
            raise RuleViolation(f"period ends ({end}) before it starts ({start})", "report.order")
        return cls(start, end)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    def as_of(self, today: date) -> date:
        """The day states are measured on: the period's end, or today if that is still ahead."""
        return min(self.end, today)

    def quarters(self) -> list[tuple[str, date, date]]:
        """Each quarter the period touches: ("2026Q2", its first day, its last day)."""
        out = []
        first = date(self.start.year, 3 * ((self.start.month - 1) // 3) + 1, 1)
        while first <= self.end:
            last = _quarter_end(first)
            out.append((quarter_of(first), first, last))
            first = last + timedelta(days=1)
        return out

    def years(self) -> list[int]:
        return list(range(self.start.year, self.end.year + 1))


def _quarter_end(first: date) -> date:
    after = date(first.year + (first.month > 9), (first.month + 2) % 12 + 1, 1)
    return after - timedelta(days=1)


def share(part: int, whole: int) -> float | None:
    """part / whole to four places (0.8333), or None when there is no one to count."""
    return round(part / whole, 4) if whole else None
