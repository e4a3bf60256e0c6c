"""Which host record holds one person from one origin: how an unannounced arrival is found again.

A member who reports unannounced (未报先到) has a host record of its own id, made before the origin
knew of the arrival. When the origin then records the departure to this host, the departure names
the person (resident ID) but not that record: this index, keyed by a keyed digest of the ID number
(never the number itself), finds it, so the departure links to it instead of opening a second
record. Announced (expected) records are indexed too, so a walk-in of someone already expected is
refused: they report with the certificate the origin issued.
"""

from __future__ import annotations

from functools import lru_cache
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event


@lru_cache(maxsize=16384)  # asked several times for each departure the host imports
def person_at_host_id(host_place: str, origin_place: str, person_key: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"liangdi:person-at-host:{host_place}:{origin_place}:{person_key}")


class PersonAtHost(Aggregate):
    @staticmethod
    def create_id(host_place: str, origin_place: str, person_key: str, **_: object) -> UUID:
        return person_at_host_id(host_place, origin_place, person_key)

    @event("Indexed")
    def __init__(
        self, *, host_place: str, origin_place: str, person_key: str, host_record_id: UUID
    ) -> None:
        self.host_place, self.origin_place = host_place, origin_place
        self.host_record_id = host_record_id

    @event("Repointed")
    def point_to(self, *, host_record_id: UUID) -> None:
        """The person has a newer record here (the earlier one closed)."""
        self.host_record_id = host_record_id
