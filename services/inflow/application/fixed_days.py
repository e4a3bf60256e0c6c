"""Fixed days (固定党日 / 党员服务日 / 议事会) of the host's branches: setting them, recording who
came (each attendance an activity of the register, so contact at the origin), and what is due."""

from __future__ import annotations

import contextlib
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from services.inflow.application.organisation import OrganisationCommands
from services.inflow.domain.activity import Activity
from services.inflow.domain.branch import BranchState, MobileBranch
from services.inflow.domain.errors import NotFound, RuleViolation, WrongState
from services.inflow.domain.fixed_days import (
    ACTIVITY_KIND,
    LABEL,
    FixedDayKind,
    FixedDays,
    ensure_in_branch,
    fixed_days_id_for,
)
from shared.validation.bounds import china_today


class FixedDayCommands(OrganisationCommands):
    def fixed_days_of(self, branch_id: UUID) -> tuple[MobileBranch, FixedDays]:
        """The branch and its fixed days (an empty schedule, unsaved, if none was ever set)."""
        branch = self.get_branch(branch_id)
        try:
            days = self.repository.get(fixed_days_id_for(branch.id))
        except AggregateNotFoundError:
            days = FixedDays(branch_id=str(branch.id), host_place=self.place)
        return branch, days

    def set_fixed_day(
        self,
        branch_id: UUID,
        *,
        kind: str,
        day_of_month: int | None,
        since: date | None,
        set_by: str,
    ) -> FixedDays:
        branch, days = self.fixed_days_of(branch_id)
        _ensure_active(branch)
        days.set_day(
            kind=kind, day_of_month=day_of_month, since=since or china_today(), set_by=set_by
        )
        self.save(days)
        return days

    def record_fixed_day(
        self,
        branch_id: UUID,
        *,
        kind: str,
        held_on: date,
        attendee_ids: list[UUID],
        title: str | None,
        recorded_by: str,
        today: date | None = None,
    ) -> UUID:
        """Who came to a fixed day. Recording it again adds latecomers; it never removes."""
        if len(set(attendee_ids)) != len(attendee_ids):
            raise RuleViolation("a member is listed twice", "fixed_day.duplicate_member")
        branch, days = self.fixed_days_of(branch_id)
        fixed = FixedDayKind(kind)
        days.ensure_fixed_day(fixed, held_on)
        roster = list(branch.members)
        ensure_in_branch(roster, [str(m) for m in attendee_ids])  # before the register is touched
        activity = Activity.record(
            host_place=self.place,
            kind=ACTIVITY_KIND[fixed],
            title=title or f"{LABEL[fixed]} {held_on.isoformat()}",
            held_on=held_on,
            organiser=branch.name,
            today=today or china_today(),
            recorded_by=recorded_by,
        )
        new = list(attendee_ids)
        with contextlib.suppress(NotFound):
            activity = self.get_activity(activity.id)
            new = [m for m in attendee_ids if str(m) not in set(activity.attendees)]
        members = self._attend(activity, new, recorded_by)
        days.record_attendance(
            kind=fixed,
            held_on=held_on,
            members=roster,
            attended=[str(m) for m in attendee_ids],
            activity_id=str(activity.id),
            recorded_by=recorded_by,
        )
        self.save(activity, *members, days)  # one write: the day, its activity, each attendance
        return activity.id


def _ensure_active(branch: Any) -> None:
    if branch.state != BranchState.ACTIVE:
        raise WrongState(f"the branch is {branch.state}", "fixed_day.branch_closed")
