"""The activity register (活动全登记): every activity held in the host place, with attendance.

Any organisation in the host place records the attendance of any member it hosts ("one card").
Each attendance is also an event on the member's own record, so it reaches the origin in the
member's order and counts as contact there.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.inflow.domain.errors import RuleViolation


class ActivityKind(StrEnum):
    MONTHLY_ACTIVITY_DAY = "monthly_activity_day"  # 固定主题党日
    STUDY_SESSION = "study_session"
    SERVICE = "service"
    OTHER = "other"


class Activity(Aggregate):
    @event("Recorded")
    def __init__(
        self,
        *,
        host_place: str,
        kind: str,
        title: str,
        held_on: date,
        organiser: str,
        recorded_by: str,
    ) -> None:
        self.host_place, self.kind, self.title = host_place, kind, title
        self.held_on, self.organiser = held_on, organiser
        self.attendees: list[str] = []

    @classmethod
    def record(
        cls,
        *,
        host_place: str,
        kind: str,
        title: str,
        held_on: date,
        organiser: str,
        today: date,
        recorded_by: str,
    ) -> Activity:
        if held_on > today:
            raise RuleViolation("an activity is registered once held", "activity.future_date")
        return cls(
            host_place=host_place,
            kind=ActivityKind(kind).value,
            title=title,
            held_on=held_on,
            organiser=organiser,
            recorded_by=recorded_by,
        )

    @staticmethod
    def create_id(
        *, host_place: str, organiser: str, held_on: date, title: str, **_: object
    ) -> UUID:
        """One activity per organiser, day and title: registering it again is the same activity
        (its attendance merged), never a second attendance for the members already listed."""
        return activity_id_for(host_place, organiser, held_on, title)

    @event("AttendanceRecorded")
    def record_attendance(self, *, member_ids: list[str], recorded_by: str) -> None:
        self.attendees.extend(member_ids)


def activity_id_for(host_place: str, organiser: str, held_on: date, title: str) -> UUID:
    key = "|".join(
        (host_place, " ".join(organiser.split()), held_on.isoformat(), " ".join(title.split()))
    )
    return uuid5(ACTIVITY_NAMESPACE, key)


ACTIVITY_NAMESPACE = UUID("6f1c2a52-3d1e-5b7a-9a55-0c6f2d4b8e11")
