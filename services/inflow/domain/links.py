"""Links an origin member id to a host record that was created before the origin knew of it.

A member who reports unannounced gets a host record of its own id; when the origin confirms who
they are, this link sits at the id an announced arrival of that member would have had, so every
later fact about the origin's member finds the same record, and a second departure cannot create a
second record.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.inflow.domain.member import hosted_member_id


class OriginLink(Aggregate):
    @staticmethod
    def create_id(host_place: str, origin_member_id: str, **_: object) -> UUID:
        return hosted_member_id(host_place, origin_member_id)

    @event("Linked")
    def __init__(self, *, host_place: str, origin_member_id: str, host_record_id: UUID) -> None:
        self.host_place, self.origin_member_id = host_place, origin_member_id
        self.host_record_id = host_record_id

    @event("Relinked")
    def relink(self, *, host_record_id: UUID) -> None:
        """The member's newer record here (they left and reported again, unannounced)."""
        self.host_record_id = host_record_id
