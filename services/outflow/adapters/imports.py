"""Facts from host districts, applied to the origin's record (the inbound contract)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from shared.contracts.envelope import Envelope
from shared.contracts.events import MemberReported
from shared.contracts.registry import WireEvent
from shared.eventsourced import LiangdiApplication
from shared.messaging.receiver import Importer, InboundRejected


def importer_for(app: LiangdiApplication) -> Importer:
    def apply(envelope: Envelope, event: WireEvent) -> list[Any]:
        origin = getattr(event, "origin_place", app.place)  # type: ignore[attr-defined]
        if origin != app.place:  # type: ignore[attr-defined]
            raise InboundRejected("inbound.wrong_origin", f"fact is for origin {origin}")
        if isinstance(event, MemberReported):
            member = _member(app, event.member_id)
            if member.host_place != envelope.from_place:
                raise InboundRejected(
                    "inbound.not_your_member",
                    f"member is hosted by {member.host_place}, not {envelope.from_place}",
                )
            member.record_host_report(host_place=envelope.from_place, reported_on=event.reported_on)
            return [member]
        raise InboundRejected("inbound.unhandled", f"origin does not apply {type(event).__name__}")

    return apply


def _member(app: LiangdiApplication, member_id: str) -> Any:
    try:
        return app.repository.get(UUID(member_id))
    except (AggregateNotFoundError, ValueError):
        raise InboundRejected("inbound.unknown_member", f"no member {member_id}") from None
