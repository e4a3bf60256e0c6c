"""The origin county's application: commands and queries over its event-sourced record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from services.outflow.domain.certificates import CertificateRegister, register_id_for
from services.outflow.domain.member import MobileMember, member_id_for
from shared.eventsourced import LiangdiApplication
from shared.validation import validate_county_code, validate_phone, validate_resident_id


class MemberNotFound(LookupError):
    pass


class MemberAlreadyRegistered(Exception):
    pass


@dataclass(frozen=True)
class DepartureRecorded:
    member_id: UUID
    certificate_no: str
    should_transfer: bool


class OutflowApplication(LiangdiApplication):
    name = "outflow"
    snapshotting_intervals = {MobileMember: 50, CertificateRegister: 200}

    def __init__(
        self, env: dict[str, Any] | None = None, *, place: str, mobile_after_months: int = 6
    ):
        super().__init__(env=env)
        self.place = place
        self.mobile_after_months = mobile_after_months

    def register_member(
        self,
        *,
        name: str,
        resident_id: str,
        sex: str,
        phone: str,
        origin_branch: str,
        household_address: str,
        recorded_by: str,
    ) -> UUID:
        resident_id = validate_resident_id(resident_id)
        member = MobileMember(
            origin_place=self.place,
            name=name,
            resident_id=resident_id,
            sex=sex,
            phone=validate_phone(phone),
            origin_branch=origin_branch,
            household_address=household_address,
            recorded_by=recorded_by,
        )
        try:
            self.save(member)
        except IntegrityError:
            raise MemberAlreadyRegistered(member_id_for(self.place, resident_id)) from None
        return member.id

    def get_member(self, member_id: UUID, as_of_version: int | None = None) -> MobileMember:
        try:
            return self.repository.get(member_id, version=as_of_version)
        except AggregateNotFoundError:
            raise MemberNotFound(member_id) from None

    def record_departure(
        self,
        member_id: UUID,
        *,
        host_place: str,
        employer: str,
        host_address: str,
        reason: str,
        expected_months: int,
        departed_on: date,
        recorded_by: str,
        today: date | None = None,
    ) -> DepartureRecorded:
        host_place = validate_county_code(host_place)
        for attempt in range(5):
            member = self.get_member(member_id)
            register = self._certificate_register()
            number = register.next_number()
            member.depart(
                host_place=host_place,
                employer=employer,
                host_address=host_address,
                reason=reason,
                expected_months=expected_months,
                departed_on=departed_on,
                certificate_no=number,
                today=today or date.today(),
                recorded_by=recorded_by,
            )
            register.issue(number, member.id)
            try:
                # Member and counter in one transaction: a number exists only with its departure.
                self.save(member, register)
            except IntegrityError:
                if attempt == 4:
                    raise
                continue
            return DepartureRecorded(
                member.id, number, member.should_transfer(self.mobile_after_months)
            )
        raise AssertionError("unreachable")

    def _certificate_register(self) -> CertificateRegister:
        try:
            return self.repository.get(register_id_for(self.place))
        except AggregateNotFoundError:
            return CertificateRegister(self.place)
