"""Which of the origin's events the host side needs, as wire events (the outbound contract)."""

from __future__ import annotations

from typing import Any

from services.outflow.domain.member import MobileMember
from shared.contracts.envelope import O2H
from shared.contracts.events import MemberDeparted
from shared.eventsourced import LiangdiApplication
from shared.messaging.relay import Exporter, Outbound


def exporter_for(app: LiangdiApplication) -> Exporter:
    def export(event: Any) -> list[Outbound]:
        if isinstance(event, MobileMember.Departed):
            member = app.repository.get(event.originator_id, version=event.originator_version)
            return [
                Outbound(
                    to_place=event.host_place,
                    direction=O2H,
                    member_id=str(event.originator_id),
                    event=MemberDeparted(
                        member_id=str(event.originator_id),
                        origin_place=member.origin_place,
                        host_place=event.host_place,
                        name=member.name,
                        resident_id=member.resident_id,
                        sex=member.sex,
                        phone=member.phone,
                        origin_branch=member.origin_branch,
                        employer=event.employer,
                        host_address=event.host_address,
                        reason=event.reason,
                        expected_months=event.expected_months,
                        departed_on=event.departed_on,
                        certificate_no=event.certificate_no,
                    ),
                )
            ]
        return []

    return export
