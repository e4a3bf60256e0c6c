"""Which of the host's events the origin needs, as wire events (the outbound contract).

A pure function of the event and its aggregate at that version: at most one fact per event, to the
member's own origin county only. Nothing goes out about a member the origin has not confirmed
(it could not place it), nor after the membership was transferred in (the host owns it then).
"""

from __future__ import annotations

from typing import Any

from services.inflow.adapters import practices
from services.inflow.adapters.practices import export_practice
from services.inflow.domain.assistance import AssistanceRequest
from services.inflow.domain.evaluation import HostEvaluation
from services.inflow.domain.member import HostedMember, HostStatus
from services.inflow.domain.walk_ins import PersonAtHost
from shared.contracts import events as wire
from shared.contracts.envelope import H2O
from shared.contracts.registry import WireEvent
from shared.eventsourced import LiangdiApplication
from shared.messaging.relay import Exporter, Outbound, exported_topics
from shared.projection import AggregatesAt

_MEMBER_FACTS = (
    HostedMember.Reported,
    HostedMember.ReportingOverdue,
    HostedMember.BranchAssigned,
    HostedMember.BranchLeft,
    HostedMember.Attended,
    HostedMember.LeftHost,
    HostedMember.ReceiptReturned,
)
#: Every event a fact is made of. Nothing else is exported: an arrival's own record (the
#: imported departure, the person's index) stays here.
_EXPORTED = (
    *practices.EXPORTED,
    HostedMember.ArrivedUnannounced,
    HostedMember.OriginConfirmed,
    *_MEMBER_FACTS,
    HostEvaluation.Evaluated,
    AssistanceRequest.Requested,
)


def exporter_for(app: LiangdiApplication) -> Exporter:
    # The relay reads the log in order: the aggregates a fact needs are moved on by the events
    # themselves (observed below), not read again from the store at each version. One reader at
    # a time: the relay and anti-entropy make an exporter each.
    at_version = AggregatesAt(app)

    def export(event: Any) -> list[Outbound]:
        if not isinstance(event, PersonAtHost.Event):  # an index no fact is ever made of
            at_version.observe(event)
        if (practice := export_practice(app, event)) is not None:  # docs/practices.md
            return practice
        if isinstance(event, HostedMember.ArrivedUnannounced):
            return [_unannounced(event)]
        if isinstance(event, HostedMember.OriginConfirmed):
            # A confirmed unannounced arrival (未报先到): the origin learns the report date as
            # from any report (docs/flows.md, "Unannounced arrival").
            member = at_version(event)
            if member.reported_on is None or member.status != HostStatus.REPORTED:
                return []
            return [
                _to_origin(
                    member,
                    wire.MemberReported(
                        **_names(member),
                        reported_on=member.reported_on,
                        certificate_no=member.certificate_no or "",
                    ),
                )
            ]
        if isinstance(event, _MEMBER_FACTS):
            member = at_version(event)
            if not member.origin_member_id:
                return []
            received_before = member.status == HostStatus.RECEIVED and not isinstance(
                event, HostedMember.ReceiptReturned
            )
            if received_before:
                return []
            return [_to_origin(member, _member_fact(event, member))]
        if isinstance(event, HostEvaluation.Evaluated):
            evaluation = at_version(event)
            return [
                _to_origin(
                    evaluation,
                    wire.HostEvaluated(
                        **_names(evaluation),
                        year=evaluation.year,
                        grade=event.grade,
                        attendance_count=event.attendance_count,
                        comments=event.comments,
                    ),
                )
            ]
        if isinstance(event, AssistanceRequest.Requested):
            return [
                _to_origin(
                    event,
                    wire.AssistanceRequested(
                        **_names(event),
                        request_id=str(event.originator_id),
                        amount_fen=event.amount_fen,
                        reason=event.reason,
                        requested_on=event.requested_on,
                    ),
                )
            ]
        return []

    # The relay's round brings in step at once the aggregates these facts are made from.
    export.prefetch = lambda events: at_version.prefetch(events, _made_from_aggregate)  # type: ignore[attr-defined]
    export.topics = exported_topics(*_EXPORTED)  # type: ignore[attr-defined]
    return export


def _names(holder: Any) -> dict[str, str]:
    return {
        "member_id": holder.origin_member_id,
        "origin_place": holder.origin_place,
        "host_place": holder.host_place,
    }


def _to_origin(holder: Any, fact: WireEvent) -> Outbound:
    return Outbound(
        to_place=holder.origin_place,
        direction=H2O,
        member_id=holder.origin_member_id,
        event=fact,
    )


def _member_fact(event: Any, member: HostedMember) -> WireEvent:
    names = _names(member)
    if isinstance(event, HostedMember.Reported):
        return wire.MemberReported(
            **names, reported_on=event.reported_on, certificate_no=member.certificate_no or ""
        )
    if isinstance(event, HostedMember.ReportingOverdue):
        return wire.ReportingOverdue(**names, due_on=event.due_on)
    if isinstance(event, HostedMember.BranchAssigned):
        return wire.BranchAssigned(
            **names,
            branch_id=event.branch_id,
            branch_name=event.branch_name,
            change=getattr(event, "change", "assigned"),
            reason=getattr(event, "reason", ""),
        )
    if isinstance(event, HostedMember.BranchLeft):
        # Removed, or the branch dissolved: the member has no branch here any more.
        return wire.BranchAssigned(
            **names, branch_id="", branch_name="", change=event.change, reason=event.reason
        )
    if isinstance(event, HostedMember.Attended):
        return wire.ActivityAttended(
            **names,
            activity_id=event.activity_id,
            kind=event.kind,
            title=event.title,
            held_on=event.held_on,
            organiser=event.organiser,
        )
    if isinstance(event, HostedMember.LeftHost):
        return wire.MemberLeftHost(
            **names, left_on=event.left_on, reason=event.reason, destination=event.destination
        )
    return wire.TransferReceiptReturned(
        **names,
        letter_no=event.letter_no,
        received_on=event.received_on,
        receiving_organisation=event.receiving_organisation,
    )


def _unannounced(event: Any) -> Outbound:
    # The host does not know the origin's member id: the message is keyed by the host record.
    record_id = str(event.originator_id)
    return Outbound(
        to_place=event.origin_place,
        direction=H2O,
        member_id=record_id,
        event=wire.ArrivedUnannounced(
            host_record_id=record_id,
            origin_place=event.origin_place,
            host_place=event.host_place,
            name=event.name,
            resident_id=event.resident_id,
            phone=event.phone,
            reported_on=event.reported_on,
            certificate_no=event.certificate_no,
        ),
    )


def _made_from_aggregate(event: Any) -> bool:
    """Whether `export` asks `at_version` for this event's aggregate."""
    return isinstance(
        event, (HostedMember.OriginConfirmed, *_MEMBER_FACTS, HostEvaluation.Evaluated)
    )
