"""Which of the host's events the origin needs, as wire events (the outbound contract)."""

from __future__ import annotations

from typing import Any

from services.inflow.domain.member import HostedMember
from shared.contracts.envelope import H2O
from shared.contracts.events import MemberReported
from shared.eventsourced import LiangdiApplication
from shared.messaging.relay import Exporter, Outbound


def exporter_for(app: LiangdiApplication) -> Exporter:
    def export(event: Any) -> list[Outbound]:
        if isinstance(event, HostedMember.Reported):
            member = app.repository.get(event.originator_id, version=event.originator_version)
            return [
                Outbound(
                    to_place=member.origin_place,
                    direction=H2O,
                    member_id=member.origin_member_id,
                    event=MemberReported(
                        member_id=member.origin_member_id,
                        origin_place=member.origin_place,
                        host_place=member.host_place,
                        reported_on=event.reported_on,
                        certificate_no=member.certificate_no,
                    ),
                )
            ]
        return []

    return export
