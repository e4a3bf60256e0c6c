"""The host district's application: commands and queries over its event-sourced record."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from services.inflow.domain.member import HostedMember
from shared.eventsourced import LiangdiApplication


class MemberNotFound(LookupError):
    pass


class InflowApplication(LiangdiApplication):
    name = "inflow"
    snapshotting_intervals = {HostedMember: 50}

    def __init__(
        self, env: dict[str, Any] | None = None, *, place: str, reporting_deadline_days: int = 30
    ):
        super().__init__(env=env)
        self.place = place
        self.reporting_deadline_days = reporting_deadline_days

    def get_member(self, member_id: UUID) -> HostedMember:
        try:
            return self.repository.get(member_id)
        except AggregateNotFoundError:
            raise MemberNotFound(member_id) from None

    def record_report(
        self,
        member_id: UUID,
        *,
        certificate_no: str,
        reported_on: date,
        recorded_by: str,
        today: date | None = None,
    ) -> None:
        member = self.get_member(member_id)
        member.report(
            certificate_no=certificate_no,
            reported_on=reported_on,
            today=today or date.today(),
            recorded_by=recorded_by,
        )
        self.save(member)
