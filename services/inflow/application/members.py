"""Reporting (报到), announced or not; the reporting deadline; leaving; transfer in."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from uuid import UUID, uuid4

from services.inflow.application.base import InflowBase
from services.inflow.domain.errors import RuleViolation
from shared.validation.bounds import china_today


class MemberCommands(InflowBase):
    def record_report(
        self,
        member_id: UUID,
        *,
        certificate_no: str,
        reported_on: date,
        recorded_by: str,
        locality: str = "",
        today: date | None = None,
    ) -> None:
        member = self.get_member(member_id)
        member.report(
            certificate_no=certificate_no,
            reported_on=reported_on,
            today=today or china_today(),
            recorded_by=recorded_by,
            locality=locality,
        )
        self.save(member)

    def record_unannounced_report(
        self,
        *,
        origin_place: str,
        name: str,
        resident_id: str,
        phone: str,
        reported_on: date,
        recorded_by: str,
        employer: str = "",
        locality: str = "",
        certificate_no: str | None = None,
        today: date | None = None,
    ) -> UUID:
        from services.inflow.domain.member import HostedMember

        member = HostedMember.walk_in(
            record_id=uuid4(),
            host_place=self.place,
            origin_place=origin_place,
            name=name,
            resident_id=resident_id,
            phone=phone,
            employer=employer,
            locality=locality,
            certificate_no=certificate_no,
            reported_on=reported_on,
            today=today or china_today(),
            recorded_by=recorded_by,
        )
        self.save(member)
        return member.id

    def flag_overdue_reporting(
        self, candidates: Iterable[UUID], *, as_of: date, today: date | None = None
    ) -> list[UUID]:
        """Flags each candidate whose deadline passed before `as_of`; once per deadline."""
        today = today or china_today()
        if as_of > today:
            # A deadline is missed only once the day has come: a future day would flag (and
            # tell the origin about) members who may still report in time.
            raise RuleViolation(
                f"overdue reporting is judged on a day that has come; {as_of} is after today "
                f"({today})",
                "arrivals.as_of_future",
            )
        flagged = []
        for member_id in candidates:
            member = self.get_member(member_id)
            if member.flag_overdue(as_of=as_of, deadline_days=self.reporting_deadline_days):
                self.save(member)
                flagged.append(member.id)
        return flagged

    def record_leaving(
        self,
        member_id: UUID,
        *,
        left_on: date,
        reason: str,
        destination: str = "",
        today: date | None = None,
    ) -> None:
        member = self.get_member(member_id)
        member.leave(
            left_on=left_on, reason=reason, destination=destination, today=today or china_today()
        )
        changed: list[object] = [member]
        if member.branch_id:
            branch = self.get_branch(UUID(member.branch_id))
            branch.release(member_id=str(member.id))
            changed.append(branch)
        self.save(*changed)

    def return_transfer_receipt(
        self, member_id: UUID, *, letter_no: str, received_on: date, today: date | None = None
    ) -> None:
        member = self.get_member(member_id)
        member.return_receipt(
            letter_no=letter_no, received_on=received_on, today=today or china_today()
        )
        self.save(member)

    def edit_member_details(self, member_id: UUID, changes: dict[str, str]) -> None:
        member = self.get_member(member_id)
        member.edit_details(changes)
        self.save(member)
