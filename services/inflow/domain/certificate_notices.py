"""What the host knows of activity certificates the origin made void (reissued or cancelled).

The origin county numbers and issues the certificate (流动党员活动证); the host only learns that a
number is void, so that nobody reports (报到) here with a certificate that was lost and replaced,
or cancelled (docs/practices.md, "The activity certificate").
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.inflow.domain.errors import RuleViolation


def notices_id_for(member_record_id: UUID) -> UUID:
    return uuid5(NAMESPACE_URL, f"liangdi:certificate-notices:{member_record_id}")


class CertificateNotices(Aggregate):
    @staticmethod
    def create_id(member_record_id: str) -> UUID:
        return notices_id_for(UUID(member_record_id))

    @event("Opened")
    def __init__(self, member_record_id: str) -> None:
        self.member_record_id = member_record_id
        self.void: dict[str, dict[str, Any]] = {}  # number → why, when, replaced by

    def knows_void(self, number: str) -> bool:
        return number in self.void

    @event("NumberVoided")
    def record_void(self, *, number: str, reason: str, on: date, replaced_by: str | None) -> None:
        self.void[number] = {"reason": reason, "on": on.isoformat(), "replaced_by": replaced_by}

    def check_not_void(self, number: str) -> None:
        found = self.void.get(number)
        if found is None:
            return
        then = f"reissued as {found['replaced_by']}" if found["replaced_by"] else "cancelled"
        raise RuleViolation(
            f"certificate {number} is void since {found['on']} ({found['reason']}; {then})",
            "reporting.certificate_void",
        )
