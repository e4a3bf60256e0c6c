"""Commands on the information base: register, correct, depart (with certificate), contact."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from services.outflow.application.core import MemberAlreadyRegistered, OutflowCore
from services.outflow.domain.certificates import CertificateRegister
from services.outflow.domain.member import MobileMember
from services.outflow.domain.registration import check_record_against_id
from shared.validation import validate_county_code, validate_phone, validate_resident_id


@dataclass(frozen=True)
class DepartureRecorded:
    member_id: UUID
    certificate_no: str
    should_transfer: bool


class MemberCommands(OutflowCore):
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
        check_record_against_id(resident_id, sex, self._today(None))
        member = MobileMember(
            origin_place=self.place,
            person_key=self.person_key(resident_id),
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
            raise MemberAlreadyRegistered(self.member_id_of(resident_id)) from None
        return member.id

    def correct_details(
        self, member_id: UUID, *, changes: dict[str, str], recorded_by: str
    ) -> dict[str, str]:
        if "phone" in changes:
            changes = {**changes, "phone": validate_phone(changes["phone"])}
        member = self.get_member(member_id)
        if "sex" in changes:
            check_record_against_id(member.resident_id, changes["sex"], self._today(None))
        changed = member.correct_details(changes=changes, recorded_by=recorded_by)
        self.save(member)  # a concurrent edit raises a conflict: the caller gets 409
        return changed

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

        def decide(register: CertificateRegister) -> tuple[MobileMember, DepartureRecorded]:
            member = self.get_member(member_id)
            number = register.next_number()
            member.depart(
                host_place=host_place,
                employer=employer,
                host_address=host_address,
                reason=reason,
                expected_months=expected_months,
                departed_on=departed_on,
                certificate_no=number,
                today=self._today(today),
                recorded_by=recorded_by,
            )
            # Member and counter in one transaction: a number exists only with its departure.
            register.issue(number, member.id)
            return member, DepartureRecorded(
                member.id, number, member.should_transfer(self.rules.mobile_after_months)
            )

        return self._numbering(decide, reads=(member_id,))

    def move_to_host(
        self,
        member_id: UUID,
        *,
        to_host_place: str,
        moved_on: date,
        certificate: str,
        employer: str,
        host_address: str,
        recorded_by: str,
        today: date | None = None,
    ) -> str:
        """A move from one host place to another (docs/flows.md); returns the certificate number
        the member reports with at the new host."""
        to_host_place = validate_county_code(to_host_place)

        def decide(register: CertificateRegister | None) -> tuple[MobileMember, str]:
            member = self.get_member(member_id)
            number = register.next_number() if register else None
            member.move_to_host(
                to_host_place=to_host_place,
                moved_on=moved_on,
                certificate=certificate,
                new_certificate_no=number,
                employer=employer,
                host_address=host_address,
                today=self._today(today),
                recorded_by=recorded_by,
            )
            if register is not None:
                register.issue(number, member.id)  # a new number exists only with its move
            return member, str(member.certificate_no)

        if certificate == "new":
            return self._numbering(decide, reads=(member_id,))

        def attempt() -> str:
            member, certificate_no = decide(None)
            self.save(member)
            return certificate_no

        return self._retrying(attempt)

    def record_contact(
        self,
        member_id: UUID,
        *,
        kind: str,
        on: date,
        note: str,
        recorded_by: str,
        today: date | None = None,
    ) -> None:
        member = self.get_member(member_id)
        member.record_contact(
            kind=kind,
            on=on,
            source="origin",
            note=note,
            recorded_by=recorded_by,
            today=self._today(today),
        )
        self.save(member)
