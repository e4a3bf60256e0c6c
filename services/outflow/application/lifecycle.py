"""Commands over a departed member's life: verification, lost contact, return, transfer out."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from services.outflow.application.core import NotFoundError, OutflowCore
from services.outflow.domain.arrivals import BLOCKING, UnannouncedArrival, mismatches_of
from services.outflow.domain.errors import WrongState


class LifecycleCommands(OutflowCore):
    def record_verification(
        self,
        member_id: UUID,
        *,
        checked_on: date,
        file_ok: bool,
        address_ok: bool,
        contact_ok: bool,
        note: str,
        recorded_by: str,
        today: date | None = None,
    ) -> None:
        member = self.get_member(member_id)
        member.record_verification(
            checked_on=checked_on,
            file_ok=file_ok,
            address_ok=address_ok,
            contact_ok=contact_ok,
            note=note,
            recorded_by=recorded_by,
            today=self._today(today),
        )
        self.save(member)

    def mark_lost(
        self,
        member_id: UUID,
        *,
        reason_code: str,
        on: date,
        note: str,
        recorded_by: str,
        today: date | None = None,
    ) -> None:
        member = self.get_member(member_id)
        member.mark_lost(
            reason_code=reason_code,
            on=on,
            note=note,
            recorded_by=recorded_by,
            today=self._today(today),
            after_days=self.rules.lost_contact_after_days,
        )
        self.save(member)

    def suspend(
        self,
        member_id: UUID,
        *,
        on: date,
        decision: str,
        recorded_by: str,
        today: date | None = None,
    ) -> None:
        member = self.get_member(member_id)
        member.suspend(on=on, decision=decision, recorded_by=recorded_by, today=self._today(today))
        self.save(member)

    def restore(
        self, member_id: UUID, *, on: date, note: str, recorded_by: str, today: date | None = None
    ) -> None:
        member = self.get_member(member_id)
        member.restore(on=on, note=note, recorded_by=recorded_by, today=self._today(today))
        self.save(member)

    def remove(
        self,
        member_id: UUID,
        *,
        on: date,
        decision: str,
        recorded_by: str,
        today: date | None = None,
    ) -> None:
        member = self.get_member(member_id)
        member.remove(
            on=on,
            decision=decision,
            recorded_by=recorded_by,
            today=self._today(today),
            after_days=self.rules.removal_after_suspension_days,
        )
        self.save(member)

    def return_home(
        self, member_id: UUID, *, returned_on: date, recorded_by: str, today: date | None = None
    ) -> None:
        member = self.get_member(member_id)
        member.return_home(
            returned_on=returned_on, recorded_by=recorded_by, today=self._today(today)
        )
        self.save(member)

    def issue_letter(
        self,
        member_id: UUID,
        *,
        receiving_organisation: str,
        issued_on: date,
        validity_days: int | None,
        recorded_by: str,
        today: date | None = None,
    ) -> str:
        member = self.get_member(member_id)
        letter_no = member.issue_letter(
            receiving_organisation=receiving_organisation,
            issued_on=issued_on,
            validity_days=validity_days or self.rules.transfer_letter_validity_days,
            recorded_by=recorded_by,
            today=self._today(today),
        )
        self.save(member)
        return letter_no

    def void_letter(
        self, member_id: UUID, letter_no: str, *, reason: str, recorded_by: str
    ) -> None:
        member = self.get_member(member_id)
        member.void_letter(letter_no=letter_no, reason=reason, recorded_by=recorded_by)
        self.save(member)

    def reissue_letter(
        self,
        member_id: UUID,
        letter_no: str,
        *,
        issued_on: date,
        validity_days: int | None,
        recorded_by: str,
        today: date | None = None,
    ) -> str:
        member = self.get_member(member_id)
        new_no = member.reissue_letter(
            letter_no=letter_no,
            issued_on=issued_on,
            validity_days=validity_days or self.rules.transfer_letter_validity_days,
            recorded_by=recorded_by,
            today=self._today(today),
        )
        self.save(member)
        return new_no

    def record_receipt(
        self,
        member_id: UUID,
        letter_no: str,
        *,
        received_on: date,
        receiving_organisation: str,
        recorded_by: str,
        today: date | None = None,
    ) -> None:
        member = self.get_member(member_id)
        member.receive_transfer(
            letter_no=letter_no,
            received_on=received_on,
            receiving_organisation=receiving_organisation,
            recorded_by=recorded_by,
            today=self._today(today),
        )
        self.save(member)

    def confirm_arrival(self, arrival_id: UUID, *, recorded_by: str) -> UUID:
        """Confirms an unannounced arrival once the record fits (the member departed there)."""
        arrival = self._find(arrival_id)
        if not isinstance(arrival, UnannouncedArrival):
            raise NotFoundError("arrival.not_found", f"no unannounced arrival {arrival_id}")
        if arrival.confirmed:
            raise WrongState("this arrival is already confirmed", "arrival.already_confirmed")
        member = self._find(arrival.member_id) if arrival.member_id else None
        if member is None:
            member = self._find(self.member_id_of(arrival.resident_id))
        now = mismatches_of(
            member,
            host_place=arrival.host_place,
            name=arrival.name,
            phone=arrival.phone,
            certificate_no=None,
        )
        blocking = [m for m in now if m in BLOCKING]
        if blocking:
            raise WrongState(
                "the record does not fit the arrival yet ("
                + ", ".join(blocking)
                + "): register the member or record the departure to this host first",
                "arrival.mismatch",
            )
        assert member is not None
        arrival.confirm(
            member_id=member.id, certificate_no=member.certificate_no, recorded_by=recorded_by
        )
        self.save(arrival)
        return member.id
