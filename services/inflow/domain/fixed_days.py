"""Fixed days (固定党日 / 党员服务日 / 议事会) of a host branch.

Each branch sets the days its members meet, by day of the month: the fixed party day, the
members' service day, the members' council. The branch records who came; members who miss
several fixed days in a row are the ones drifting away (the regulation's member "unable for
six months or more to take part in the branch's life"), and the branch's to-do list shows them
beside the fixed days whose attendance is not yet recorded.

Each attendance is also an activity of the district's register, so it reaches the origin as
contact and counts in the year's evaluation like any other.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.inflow.domain.errors import RuleViolation


class FixedDayKind(StrEnum):
    PARTY_DAY = "party_day"  # 固定党日 (主题党日)
    SERVICE_DAY = "service_day"  # 党员服务日
    COUNCIL = "council"  # 议事会


#: How each fixed day is registered as an activity (the kinds the origin's contract knows).
ACTIVITY_KIND = {
    FixedDayKind.PARTY_DAY: "monthly_activity_day",
    FixedDayKind.SERVICE_DAY: "service",
    FixedDayKind.COUNCIL: "other",
}
LABEL = {
    FixedDayKind.PARTY_DAY: "固定党日",
    FixedDayKind.SERVICE_DAY: "党员服务日",
    FixedDayKind.COUNCIL: "议事会",
}
#: Fixed days that passed unrecorded are shown for this long, then only in the branch's history.
LOOKBACK = timedelta(days=366)


def fixed_days_id_for(branch_id: UUID | str) -> UUID:
    return uuid5(NAMESPACE_URL, f"liangdi:fixed-days:{branch_id}")


def day_in_month(year: int, month: int, day_of_month: int) -> date:
    """The fixed day of a month: a branch meeting on the 31st meets on the 30th in November and
    on the 28th (or 29th) in February, never skips the month."""
    return date(year, month, min(day_of_month, calendar.monthrange(year, month)[1]))


def occurrences(day_of_month: int, start: date, end: date) -> list[date]:
    """The fixed days on ``day_of_month`` between ``start`` and ``end``, both included."""
    found, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        day = day_in_month(year, month, day_of_month)
        if start <= day <= end:
            found.append(day)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


@dataclass(frozen=True)
class Occurrence:
    kind: str
    on: date


@dataclass
class MissedRun:
    """A member's fixed days missed since the last one attended (or since first expected)."""

    member_id: str
    missed: list[date] = field(default_factory=list)
    last_attended_on: date | None = None


class FixedDays(Aggregate):
    """A branch's fixed days: the schedule per kind over time, and each day's attendance."""

    @staticmethod
    def create_id(*, branch_id: str, **_: object) -> UUID:
        return fixed_days_id_for(branch_id)

    @event("Opened")
    def __init__(self, *, branch_id: str, host_place: str) -> None:
        self.branch_id, self.host_place = branch_id, host_place
        # kind -> [[since (ISO), day of month or None once stopped], ...], oldest first: a
        # day moved from the 25th to the 20th still has its earlier days on the 25th.
        self.schedule: dict[str, list[list[Any]]] = {}
        # "kind|YYYY-MM-DD" -> {"expected": [...], "attended": [...], "activity_id": ...}
        self.held: dict[str, dict[str, Any]] = {}

    # --- the schedule --------------------------------------------------------------------------

    def set_day(self, *, kind: str, day_of_month: int | None, since: date, set_by: str) -> None:
        kind = FixedDayKind(kind).value
        if day_of_month is not None and not 1 <= day_of_month <= 31:
            raise RuleViolation("a day of the month is 1 to 31", "fixed_day.bad_day")
        periods = self.schedule.get(kind, [])
        if periods and date.fromisoformat(periods[-1][0]) > since:
            raise RuleViolation(
                f"the {LABEL[FixedDayKind(kind)]} was last changed from {periods[-1][0]}",
                "fixed_day.changed_later",
            )
        self._day_set(kind=kind, day_of_month=day_of_month, since=since, set_by=set_by)

    @event("DaySet")
    def _day_set(self, *, kind: str, day_of_month: int | None, since: date, set_by: str) -> None:
        periods = [p for p in self.schedule.get(kind, []) if p[0] != since.isoformat()]
        self.schedule[kind] = [*periods, [since.isoformat(), day_of_month]]

    def current_day(self, kind: str) -> int | None:
        periods = self.schedule.get(kind)
        return periods[-1][1] if periods else None

    def scheduled(self, start: date, end: date) -> list[Occurrence]:
        """Every fixed day of the branch between ``start`` and ``end``, in order."""
        found: list[Occurrence] = []
        for kind, periods in self.schedule.items():
            for index, (since, day) in enumerate(periods):
                if day is None:
                    continue
                until = (
                    date.fromisoformat(periods[index + 1][0]) - timedelta(days=1)
                    if index + 1 < len(periods)
                    else end
                )
                begin = max(start, date.fromisoformat(since))
                found += [Occurrence(kind, d) for d in occurrences(day, begin, min(until, end))]
        return sorted(found, key=lambda o: (o.on, o.kind))

    def is_fixed_day(self, kind: str, on: date) -> bool:
        return Occurrence(kind, on) in self.scheduled(on, on)

    # --- attendance ----------------------------------------------------------------------------

    def ensure_fixed_day(self, kind: str, held_on: date) -> None:
        kind = FixedDayKind(kind).value
        if not self.is_fixed_day(kind, held_on):
            day = self.current_day(kind)
            set_on = f"day {day} of the month" if day else "not set"
            raise RuleViolation(
                f"{held_on} is not a {LABEL[FixedDayKind(kind)]} of this branch ({set_on})",
                "fixed_day.not_scheduled",
            )

    def record_attendance(
        self,
        *,
        kind: str,
        held_on: date,
        members: list[str],
        attended: list[str],
        activity_id: str,
        recorded_by: str,
    ) -> None:
        """``members``: the branch's members now, who were expected; ``attended``: who came."""
        self.ensure_fixed_day(kind, held_on)
        ensure_in_branch(members, attended)
        before = self.held.get(_key(kind, held_on), {})
        expected = sorted(set(before.get("expected", [])) | set(members))
        self._attendance_recorded(
            kind=kind,
            held_on=held_on,
            expected=expected,
            attended=sorted(set(before.get("attended", [])) | set(attended)),
            activity_id=activity_id,
            recorded_by=recorded_by,
        )

    @event("AttendanceRecorded")
    def _attendance_recorded(
        self,
        *,
        kind: str,
        held_on: date,
        expected: list[str],
        attended: list[str],
        activity_id: str,
        recorded_by: str,
    ) -> None:
        self.held[_key(kind, held_on)] = {
            "kind": kind,
            "on": held_on.isoformat(),
            "expected": expected,
            "attended": attended,
            "activity_id": activity_id,
        }

    def recorded(self, kind: str, on: date) -> bool:
        return _key(kind, on) in self.held

    # --- what is due ---------------------------------------------------------------------------

    def unrecorded(self, today: date) -> list[Occurrence]:
        """Fixed days that passed (within a year) with no attendance recorded."""
        passed = self.scheduled(today - LOOKBACK, today - timedelta(days=1))
        return [o for o in passed if not self.recorded(*_of(o))]

    def upcoming(self, today: date, until: date) -> list[Occurrence]:
        """Fixed days from today on (today's is still to come until its attendance is in)."""
        return self.scheduled(today, until)

    def missed_runs(self, members: list[str], kind: str | None = None) -> list[MissedRun]:
        """For each of ``members``, the fixed days missed in a row up to the latest recorded:
        only days the member was expected at (a member of the branch then) count."""
        runs = {m: MissedRun(m) for m in members}
        held = sorted(self.held.values(), key=lambda h: (h["on"], h["kind"]))
        for day in held:
            if kind is not None and day["kind"] != kind:
                continue
            on = date.fromisoformat(day["on"])
            for member_id in set(day["expected"]) & runs.keys():
                run = runs[member_id]
                if member_id in day["attended"]:
                    run.missed, run.last_attended_on = [], on
                else:
                    run.missed.append(on)
        return list(runs.values())


def ensure_in_branch(members: list[str], attended: list[str]) -> None:
    strangers = set(attended) - set(members)
    if strangers:
        raise RuleViolation(
            f"{len(strangers)} of those listed are not members of this branch: a member of "
            "another branch takes part with the pioneer card",
            "fixed_day.not_in_branch",
        )


def missed_in_a_row(runs: list[MissedRun], at_least: int) -> list[MissedRun]:
    return sorted(
        (r for r in runs if len(r.missed) >= at_least),
        key=lambda r: (-len(r.missed), r.member_id),
    )


def _key(kind: str, on: date) -> str:
    return f"{kind}|{on.isoformat()}"


def _of(occurrence: Occurrence) -> tuple[str, date]:
    return occurrence.kind, occurrence.on
