"""Reporting (报到), announced or not; the reporting deadline; leaving; transfer in."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError

from services.inflow.application.base import InflowBase
from services.inflow.domain.errors import RuleViolation, WrongState
from services.inflow.domain.member import HostedMember, HostStatus
from services.inflow.domain.walk_ins import PersonAtHost, person_at_host_id
from shared.security.identity import person_key
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
        held = self.person_record(origin_place, member.resident_id)
        if held is not None and held.status in (HostStatus.EXPECTED, HostStatus.REPORTED):
            # One person, one record here: an expected member reports with the certificate, a
            # reported one is already here (docs/flows.md, "Unannounced arrival").
            raise WrongState(
                f"this person already has a record here ({held.id}, {held.status}); "
                + (
                    "report them with the certificate the origin issued"
                    if held.status == HostStatus.EXPECTED
                    else "they have reported already"
                ),
                "arrival.already_recorded",
            )
        self.save(member, self.index_person(origin_place, member.resident_id, member.id))
        return member.id

    # --- one person, one record: the person index (domain/walk_ins.py) ---------------------

    def person_index_id(self, origin_place: str, resident_id: str) -> UUID:
        key = person_key(self.identity_key, f"{self.place}:{origin_place}", resident_id)
        return person_at_host_id(self.place, origin_place, key)

    def _person_at_host(
        self, origin_place: str, resident_id: str
    ) -> tuple[str, PersonAtHost | None]:
        key = person_key(self.identity_key, f"{self.place}:{origin_place}", resident_id)
        try:
            found = self.repository.get(person_at_host_id(self.place, origin_place, key))
        except AggregateNotFoundError:
            found = None
        return key, found if isinstance(found, PersonAtHost) else None

    def person_record(self, origin_place: str, resident_id: str) -> HostedMember | None:
        """This person's latest record here, from this origin (announced or not), if any."""
        _, index = self._person_at_host(origin_place, resident_id)
        if index is None:
            return None
        try:
            found = self.repository.get(index.host_record_id)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, HostedMember) else None

    def index_person(self, origin_place: str, resident_id: str, record_id: UUID) -> PersonAtHost:
        """The index (new, or pointed at `record_id`) to save with the record it names."""
        key, index = self._person_at_host(origin_place, resident_id)
        if index is None:
            return PersonAtHost(
                host_place=self.place,
                origin_place=origin_place,
                person_key=key,
                host_record_id=record_id,
            )
        if index.host_record_id != record_id:
            index.point_to(host_record_id=record_id)
        return index

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
