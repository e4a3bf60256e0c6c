"""Activity certificates (流动党员活动证) are numbered by the county, without gaps or duplicates."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event


def register_id_for(county: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"liangdi:certificate-register:{county}")


class CertificateRegister(Aggregate):
    """The county's counter. Two issues racing conflict on its version; one retries."""

    @staticmethod
    def create_id(county: str) -> UUID:
        return register_id_for(county)

    @event("Opened")
    def __init__(self, county: str) -> None:
        self.county = county
        self.issued = 0

    def next_number(self) -> str:
        return f"{self.county}-{self.issued + 1:06d}"

    @event("Issued")
    def issue(self, number: str, member_id: UUID) -> None:
        self.issued += 1
