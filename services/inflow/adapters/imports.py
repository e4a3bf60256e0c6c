"""Facts from origin counties, applied to the host's record (the inbound contract)."""

from __future__ import annotations

from typing import Any

from eventsourcing.application import AggregateNotFoundError

from services.inflow.domain.member import HostedMember, hosted_member_id
from shared.contracts.envelope import Envelope
from shared.contracts.events import MemberDeparted
from shared.contracts.registry import WireEvent
from shared.eventsourced import LiangdiApplication
from shared.messaging.receiver import Importer, InboundRejected


def importer_for(app: LiangdiApplication) -> Importer:
    def apply(envelope: Envelope, event: WireEvent) -> list[Any]:
        if getattr(event, "host_place", app.place) != app.place:  # type: ignore[attr-defined]
            raise InboundRejected("inbound.wrong_host", "fact is addressed to another host")
        if isinstance(event, MemberDeparted):
            if event.origin_place != envelope.from_place:
                raise InboundRejected("inbound.wrong_origin", "origin differs from the sender")
            try:
                # A member departing to us again after leaving: a new expected arrival is not
                # modelled yet; keep the existing record and say so.
                app.repository.get(hosted_member_id(app.place, event.member_id))  # type: ignore[attr-defined]
                raise InboundRejected("inbound.already_hosted", "member already has a host record")
            except AggregateNotFoundError:
                pass
            return [
                HostedMember(
                    host_place=app.place,  # type: ignore[attr-defined]
                    origin_member_id=event.member_id,
                    origin_place=event.origin_place,
                    name=event.name,
                    resident_id=event.resident_id,
                    sex=event.sex,
                    phone=event.phone,
                    employer=event.employer,
                    host_address=event.host_address,
                    departed_on=event.departed_on,
                    certificate_no=event.certificate_no,
                )
            ]
        raise InboundRejected("inbound.unhandled", f"host does not apply {type(event).__name__}")

    return apply
