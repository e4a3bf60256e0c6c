"""Reissuing and cancelling activity certificates, numbered by the county's register without gaps
(docs/practices.md, "The activity certificate")."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from services.outflow.application.core import OutflowCore
from services.outflow.domain.certificates import CertificateRegister
from services.outflow.domain.member import MobileMember


class CertificateCommands(OutflowCore):
    def reissue_certificate(
        self,
        member_id: UUID,
        *,
        reason: str,
        reissued_on: date,
        validity_months: int,
        recorded_by: str,
        today: date | None = None,
    ) -> MobileMember:
        def decide(register: CertificateRegister) -> tuple[MobileMember, MobileMember]:
            member = self.get_member(member_id)
            number = register.next_number()
            member.reissue_certificate(
                new_no=number,
                reason=reason,
                on=reissued_on,
                today=self._today(today),
                validity_months=validity_months,
                recorded_by=recorded_by,
            )
            # Member and counter in one transaction: a number exists only with its reissue.
            register.issue(number, member.id)
            return member, member

        return self._numbering(decide, reads=(member_id,))

    def cancel_certificate(
        self,
        member_id: UUID,
        *,
        reason: str,
        cancelled_on: date,
        recorded_by: str,
        today: date | None = None,
    ) -> MobileMember:
        member = self.get_member(member_id)
        member.cancel_certificate(
            reason=reason, on=cancelled_on, today=self._today(today), recorded_by=recorded_by
        )
        self.save(member)
        return member
