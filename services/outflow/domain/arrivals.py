"""Unannounced arrivals: someone reported at a host whom no departure announced.

The host does not know the origin's member id; the origin matches by resident ID number and
shows what does not fit until an operator confirms, which tells the host (arrival_confirmed).
"""

from __future__ import annotations

from datetime import date
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.outflow.domain.errors import WrongState


def arrival_id_for(host_place: str, host_record_id: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"liangdi:arrival:{host_place}:{host_record_id}")


class UnannouncedArrival(Aggregate):
    @staticmethod
    def create_id(host_place: str, host_record_id: str, **_: object) -> UUID:
        return arrival_id_for(host_place, host_record_id)

    @event("Reported")
    def __init__(
        self,
        *,
        host_place: str,
        host_record_id: str,
        name: str,
        resident_id: str,
        phone: str,
        reported_on: date,
        certificate_no: str | None,
        member_id: UUID | None,
        mismatches: list[str],
    ) -> None:
        self.host_place, self.host_record_id = host_place, host_record_id
        self.name, self.resident_id, self.phone = name, resident_id, phone
        self.reported_on, self.certificate_no = reported_on, certificate_no
        self.member_id, self.mismatches = member_id, mismatches
        self.confirmed = False

    def confirm(self, *, member_id: UUID, certificate_no: str | None, recorded_by: str) -> None:
        if self.confirmed:
            raise WrongState("this arrival is already confirmed", "arrival.already_confirmed")
        self._confirmed(
            member_id=member_id,
            certificate_no=certificate_no,
            host_place=self.host_place,
            recorded_by=recorded_by,
        )

    @event("Confirmed")
    def _confirmed(
        self, *, member_id: UUID, certificate_no: str | None, host_place: str, recorded_by: str
    ) -> None:
        self.confirmed, self.member_id, self.mismatches = True, member_id, []


#: Mismatches that must be resolved (register, record the departure) before confirming.
BLOCKING = ("member.unknown", "member.not_departed", "member.other_host")


def mismatches_of(
    member: object | None, *, host_place: str, name: str, phone: str, certificate_no: str | None
) -> list[str]:
    """What the origin's record says differently from the host's report (codes, stable)."""
    if member is None:
        return ["member.unknown"]
    found = []
    if getattr(member, "status", None) not in ("departed", "lost", "suspended"):
        found.append("member.not_departed")
    elif getattr(member, "host_place", None) != host_place:
        found.append("member.other_host")
    if getattr(member, "name", None) != name:
        found.append("name.differs")
    if getattr(member, "phone", None) != phone:
        found.append("phone.differs")
    if certificate_no and getattr(member, "certificate_no", None) != certificate_no:
        found.append("certificate.differs")
    return found
