"""Branches (流动党员党支部 / 联合党支部) and the activity register (活动全登记)."""

from __future__ import annotations

import contextlib
from datetime import date
from uuid import UUID

from services.inflow.application.branches import BranchCommands
from services.inflow.domain.activity import Activity
from services.inflow.domain.errors import NotFound, RuleViolation
from services.inflow.domain.member import HostedMember
from shared.validation.bounds import china_today


class OrganisationCommands(BranchCommands):
    """Branches (in BranchCommands) and the activity register."""

    def record_activity(
        self,
        *,
        kind: str,
        title: str,
        held_on: date,
        organiser: str,
        attendee_ids: list[UUID],
        recorded_by: str,
        today: date | None = None,
    ) -> UUID:
        activity = Activity.record(
            host_place=self.place,
            kind=kind,
            title=title,
            held_on=held_on,
            organiser=organiser,
            today=today or china_today(),
            recorded_by=recorded_by,
        )
        with contextlib.suppress(NotFound):
            # Registered before (the same organiser, day and title): one activity, its
            # attendance merged; the members already listed are not counted twice.
            activity = self.get_activity(activity.id)
            listed = set(activity.attendees)
            attendee_ids = [m for m in attendee_ids if str(m) not in listed]
        members = self._attend(activity, attendee_ids, recorded_by)
        self.save(activity, *members)
        return activity.id

    def record_attendance(self, activity_id: UUID, attendee_ids: list[UUID], recorded_by: str):  # type: ignore[no-untyped-def]
        activity = self.get_activity(activity_id)
        members = self._attend(activity, attendee_ids, recorded_by)
        self.save(activity, *members)

    def _attend(
        self, activity: Activity, attendee_ids: list[UUID], recorded_by: str
    ) -> list[HostedMember]:
        if len(set(attendee_ids)) != len(attendee_ids):
            raise RuleViolation("a member is listed twice", "activity.duplicate_member")
        members = [self.get_member(member_id) for member_id in attendee_ids]
        for member in members:
            member.attend(
                activity_id=str(activity.id),
                kind=activity.kind,
                title=activity.title,
                held_on=activity.held_on,
                organiser=activity.organiser,
            )
        if members:
            activity.record_attendance(
                member_ids=[str(m.id) for m in members], recorded_by=recorded_by
            )
        return members
