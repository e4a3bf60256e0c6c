"""Reporting refuses a void activity certificate; the origin's reissues and cancellations are
recorded here (docs/practices.md, "The activity certificate")."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from services.inflow.application.base import InflowBase
from services.inflow.domain.certificate_notices import CertificateNotices, notices_id_for
from services.inflow.domain.member import HostedMember


class CertificateNoticeCommands(InflowBase):
    def certificate_notices(self, member_id: UUID) -> CertificateNotices | None:
        try:
            found = self.repository.get(notices_id_for(member_id))
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, CertificateNotices) else None

    def record_report(self, member_id: UUID, *, certificate_no: str, **report: Any) -> None:
        """A report with a void number is refused naming why (not just "does not match")."""
        notices = self.certificate_notices(member_id)
        if notices is not None:
            notices.check_not_void(certificate_no)
        super().record_report(member_id, certificate_no=certificate_no, **report)  # type: ignore[misc]

    def certificate_voided(
        self,
        member: HostedMember,
        *,
        number: str,
        reason: str,
        on: date,
        replaced_by: str | None,
    ) -> list[Any]:
        """The origin made `number` void: the record now shows the current number (none after a
        cancellation). Returns what to save; nothing when the fact was applied before."""
        notices = self.certificate_notices(member.id) or CertificateNotices(str(member.id))
        if notices.knows_void(number):
            return []
        notices.record_void(number=number, reason=reason, on=on, replaced_by=replaced_by)
        # The certificate is the origin's fact (an origin correction, as for name or phone).
        member.correct_details(changes={"certificate_no": replaced_by}, by_origin=True)
        return [notices, member]
