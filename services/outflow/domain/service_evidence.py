"""What the host reports of a member's commitments (党员承诺 / 亮牌) and service in its teams:
evidence the origin weighs in the year's assessment, beside the two grades (docs/practices.md,
"Commitments and service")."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event


def evidence_id_for(member_id: UUID) -> UUID:
    return uuid5(NAMESPACE_URL, f"liangdi:service-evidence:{member_id}")


class ServiceEvidence(Aggregate):
    @staticmethod
    def create_id(member_id: str) -> UUID:
        return evidence_id_for(UUID(member_id))

    @event("Opened")
    def __init__(self, member_id: str) -> None:
        self.member_id = member_id
        self.commitments: dict[str, dict[str, Any]] = {}
        self.entries: dict[str, dict[str, Any]] = {}  # entry id → entry: a repeat adds nothing

    @event("CommitmentReported")
    def record_commitment(self, *, host_place: str, year: int, text: str, made_on: date) -> None:
        self.commitments[str(year)] = {
            "year": year,
            "text": text,
            "made_on": made_on.isoformat(),
            "host_place": host_place,
        }

    def knows_entry(self, entry_id: str) -> bool:
        return entry_id in self.entries

    @event("ServiceReported")
    def record_service(
        self, *, host_place: str, entry_id: str, team: str, kind: str, served_on: date, hours: float
    ) -> None:
        self.entries[entry_id] = {
            "team": team,
            "kind": kind,
            "served_on": served_on.isoformat(),
            "hours": hours,
            "host_place": host_place,
        }

    def summary(self, year: int) -> dict[str, Any]:
        served = [e for e in self.entries.values() if e["served_on"][:4] == str(year)]
        commitment = self.commitments.get(str(year))
        return {
            "commitments": [commitment] if commitment else [],
            "service_hours": sum(e["hours"] for e in served),
            "service_entries": len(served),
        }
