"""Which of the origin's events the host side needs, as wire events (the outbound contract).

A pure function of the event and the aggregate at that event's version: facts about a member go
to the host place the domain event names (the member's host when it happened); events with no
host place (a member at home) go nowhere.
"""

from __future__ import annotations

from typing import Any

from services.outflow.adapters import practices
from services.outflow.adapters.practices import export_practice
from services.outflow.domain.arrivals import UnannouncedArrival
from services.outflow.domain.assessment import Assessment
from services.outflow.domain.base import MemberBase
from services.outflow.domain.lost_contact import ContactAndLoss
from services.outflow.domain.member import MobileMember
from services.outflow.domain.moves import HostMoves
from services.outflow.domain.payouts import PayoutApplication
from services.outflow.domain.transfer import TransferOut
from shared.contracts.envelope import O2H
from shared.contracts.events import (
    ArrivalConfirmed,
    AssessmentConcluded,
    AssessmentJointlyReviewed,
    AssistanceStatusChanged,
    MemberDeparted,
    MemberDetailsCorrected,
    MemberMovedAway,
    MemberStatusChanged,
    OriginEvaluated,
    TransferLetterIssued,
    TransferLetterVoided,
    TransferReceiptRecorded,
)
from shared.contracts.registry import WireEvent
from shared.eventsourced import LiangdiApplication
from shared.messaging.relay import Exporter, Outbound, exported_topics
from shared.projection import AggregatesAt

_STATUS = {
    TransferOut.Returned: "returned",
    ContactAndLoss.MarkedLost: "lost",
    ContactAndLoss.Suspended: "suspended",
    MemberBase.Restored: "restored",
    ContactAndLoss.Removed: "removed",
}
_WIRE_DETAILS = ("name", "phone", "employer", "host_address")
_PAYOUT_STATUS = {
    PayoutApplication.ReviewStarted: "under_review",
    PayoutApplication.Approved: "approved",
    PayoutApplication.NoticePublished: "in_public_notice",
    PayoutApplication.Paid: "paid",
    PayoutApplication.Rejected: "rejected",
}


_ASSESSMENT_FACTS = (
    Assessment.OriginEvaluated,
    Assessment.JointlyReviewed,
    Assessment.Concluded,
)


def _assessment_fact(event: Any, year: int, ids: dict[str, Any]) -> WireEvent:
    if isinstance(event, Assessment.OriginEvaluated):
        return OriginEvaluated(**ids, year=year, grade=event.grade, comments=event.comments)
    if isinstance(event, Assessment.JointlyReviewed):
        return AssessmentJointlyReviewed(
            **ids,
            year=year,
            agreed_grade=event.agreed_grade,
            reviewed_on=event.reviewed_on,
            notes=event.notes,
            origin_grade=event.origin_grade,
            host_grade=event.host_grade,
        )
    return AssessmentConcluded(
        **ids,
        year=year,
        grade=event.grade,
        origin_grade=event.origin_grade,
        host_grade=event.host_grade,
        resolution=event.resolution,
    )


def exporter_for(app: LiangdiApplication) -> Exporter:
    origin = app.place  # type: ignore[attr-defined]

    # The relay reads the log in order: the aggregates a fact needs are moved on by the events
    # themselves (observed below), not read again from the store at each version. One reader at
    # a time: the relay and anti-entropy make an exporter each.
    at_version = AggregatesAt(app)

    def member_fact(event: Any) -> WireEvent | None:
        host = getattr(event, "host_place", None)
        member = str(event.originator_id)
        ids = {"member_id": member, "origin_place": origin, "host_place": host}
        if isinstance(event, MobileMember.Departed | HostMoves.MovedToHost):
            # A move is, for the new host, a departure towards it on the day of the move.
            m = at_version(event)
            moved = isinstance(event, HostMoves.MovedToHost)
            return MemberDeparted(
                **ids,
                name=m.name,
                resident_id=m.resident_id,
                sex=m.sex,
                phone=m.phone,
                origin_branch=m.origin_branch,
                employer=event.employer,
                host_address=event.host_address,
                reason=f"moved from {event.from_host_place}" if moved else event.reason,
                expected_months=m.expected_months if moved else event.expected_months,
                departed_on=event.moved_on if moved else event.departed_on,
                certificate_no=event.certificate_no,
            )
        if host is None:
            return None
        if isinstance(event, MobileMember.DetailsCorrected):
            changed = {k: v for k, v in event.changes.items() if k in _WIRE_DETAILS}
            return MemberDetailsCorrected(**ids, **changed) if changed else None
        for cls, status in _STATUS.items():
            if isinstance(event, cls):
                return MemberStatusChanged(
                    **ids,
                    status=status,
                    reason_code=getattr(event, "reason_code", None),
                    on=event.on,
                )
        if isinstance(event, TransferOut.LetterIssued):
            return TransferLetterIssued(
                **ids,
                letter_no=event.letter_no,
                receiving_organisation=event.receiving_organisation,
                issued_on=event.issued_on,
                valid_until=event.valid_until,
            )
        if isinstance(event, TransferOut.LetterVoided):
            return TransferLetterVoided(**ids, letter_no=event.letter_no, reason=event.reason)
        if isinstance(event, TransferOut.TransferReceived):
            # Also when the host's own receipt closed the record: the host ignores it then, and
            # the exchange sees the origin let go (docs/flows.md, "Transfer of membership").
            return TransferReceiptRecorded(
                **ids,
                letter_no=event.letter_no,
                received_on=event.received_on,
                receiving_organisation=event.receiving_organisation,
            )
        return None

    def other_fact(event: Any) -> tuple[str, WireEvent] | None:
        host = getattr(event, "host_place", None)
        if host is None:
            return None
        if isinstance(event, _ASSESSMENT_FACTS):
            a = at_version(event)
            ids = {"member_id": str(a.member_id), "origin_place": origin, "host_place": host}
            return str(a.member_id), _assessment_fact(event, a.year, ids)
        if isinstance(event, UnannouncedArrival.Confirmed):
            a = at_version(event)
            return str(event.member_id), ArrivalConfirmed(
                member_id=str(event.member_id),
                origin_place=origin,
                host_place=host,
                host_record_id=a.host_record_id,
                certificate_no=event.certificate_no,
            )
        for cls, status in _PAYOUT_STATUS.items():
            if isinstance(event, cls):
                a = at_version(event)
                if not a.source.startswith("host:"):
                    # Raised by the origin itself: the host has no request to follow (it would
                    # only dead-letter each status change).
                    return None
                return str(a.member_id), AssistanceStatusChanged(
                    member_id=str(a.member_id),
                    origin_place=origin,
                    host_place=host,
                    application_id=a.reference,
                    status=status,
                    amount_fen=a.amount_fen,
                    reason=getattr(event, "reason", "") or "",
                )
        return None

    def export(event: Any) -> list[Outbound]:
        at_version.observe(event)
        if (practice := export_practice(app, event)) is not None:  # docs/practices.md
            return practice
        outbound = []
        if isinstance(event, HostMoves.MovedToHost) and event.from_host_place:
            # The host left behind hears first, so it closes its record before the new host
            # (another place, another chain) could ask about the member.
            left = MemberMovedAway(
                member_id=str(event.originator_id),
                origin_place=origin,
                host_place=event.from_host_place,
                to_host_place=event.host_place,
                moved_on=event.moved_on,
            )
            outbound.append(
                Outbound(
                    to_place=event.from_host_place,
                    direction=O2H,
                    member_id=str(event.originator_id),
                    event=left,
                )
            )
        if isinstance(event, MemberBase.Event):
            wire = member_fact(event)
            if wire is None:
                return outbound
            member_id = str(event.originator_id)
        else:
            found = other_fact(event)
            if found is None:
                return []
            member_id, wire = found
        host = wire.host_place  # type: ignore[attr-defined]
        return [*outbound, Outbound(to_place=host, direction=O2H, member_id=member_id, event=wire)]

    # The relay's round brings in step at once the aggregates these facts are made from.
    export.prefetch = lambda events: at_version.prefetch(events, _made_from_aggregate)  # type: ignore[attr-defined]
    export.topics = exported_topics(*_EXPORTED)  # type: ignore[attr-defined]
    return export


_FROM_AGGREGATE = (
    MobileMember.Departed,
    HostMoves.MovedToHost,
    *_ASSESSMENT_FACTS,
    UnannouncedArrival.Confirmed,
    *_PAYOUT_STATUS,
)


#: Every event a fact is made of (`member_fact`, `other_fact`, the practices). Nothing else is
#: exported: registrations, the certificate register, verifications, the fund stay at home.
_EXPORTED = (
    *practices.EXPORTED,
    MobileMember.Departed,
    HostMoves.MovedToHost,
    MobileMember.DetailsCorrected,
    *_STATUS,
    TransferOut.LetterIssued,
    TransferOut.LetterVoided,
    TransferOut.TransferReceived,
    *_ASSESSMENT_FACTS,
    UnannouncedArrival.Confirmed,
    *_PAYOUT_STATUS,
)


def _made_from_aggregate(event: Any) -> bool:
    """Whether `export` asks `at_version` for this event's aggregate."""
    return isinstance(event, _FROM_AGGREGATE)
