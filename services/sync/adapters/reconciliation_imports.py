"""Every wire fact on the exchange, turned into the reconciler's own aggregates.

Facts that say nothing about assessments or membership state (activities, branches, assistance,
corrected details) are tracked and otherwise ignored. Personal data in the facts is never kept.
"""

from __future__ import annotations

from typing import Any

from services.sync.application import SyncApplication
from services.sync.domain.errors import DomainError
from services.sync.domain.evidence import evidence_item
from services.sync.domain.membership import UnannouncedArrival
from shared.contracts import events as ev
from shared.contracts.envelope import O2H, Envelope
from shared.contracts.registry import WireEvent
from shared.messaging.receiver import Importer, InboundRejected


def evidence_of(envelope: Envelope) -> dict[str, Any]:
    return evidence_item(
        event_id=envelope.id,
        type=envelope.type,
        from_place=envelope.from_place,
        to_place=envelope.to_place,
        seq=envelope.seq,
        at=envelope.time.isoformat(),
    )


def importer_for(app: SyncApplication) -> Importer:
    def apply(envelope: Envelope, event: WireEvent) -> list[Any]:
        origin, host = _places(envelope, event)
        try:
            return _apply(app, envelope, event, origin, host, evidence_of(envelope))
        except DomainError as exc:
            raise InboundRejected(exc.code, exc.message) from None

    return apply


def _places(envelope: Envelope, event: WireEvent) -> tuple[str, str]:
    """Origin and host of the fact; the sender must be the side the direction says it is."""
    origin = getattr(event, "origin_place", None)
    host = getattr(event, "host_place", None)
    sender, receiver = (origin, host) if envelope.direction == O2H else (host, origin)
    if (sender, receiver) != (envelope.from_place, envelope.to_place):
        raise InboundRejected(
            "reconciliation.places_mismatch",
            f"{envelope.direction} from {envelope.from_place} to {envelope.to_place} "
            f"does not match origin {origin} / host {host}",
        )
    return str(origin), str(host)


_ASSESSMENT_FACTS = (
    ev.OriginEvaluated,
    ev.HostEvaluated,
    ev.AssessmentJointlyReviewed,
    ev.AssessmentConcluded,
)


def _assessed(
    app: SyncApplication,
    assessment: Any,
    event: Any,
    origin: str,
    host: str,
    evidence: dict[str, Any],
) -> None:
    if isinstance(event, ev.OriginEvaluated):
        assessment.record_origin_grade(grade=event.grade, policy=app.policy, evidence=evidence)
    elif isinstance(event, ev.HostEvaluated):
        assessment.record_host_grade(
            host_place=host, grade=event.grade, policy=app.policy, evidence=evidence
        )
    elif isinstance(event, ev.AssessmentJointlyReviewed):
        assessment.record_joint_review(
            agreed_grade=event.agreed_grade,
            notes=event.notes,
            reviewer=f"origin:{origin}",
            reviewed_on=event.reviewed_on,
            evidence=evidence,
        )
    else:
        assessment.conclude(
            grade=event.grade,
            origin_grade=event.origin_grade,
            host_grade=event.host_grade,
            evidence=evidence,
            resolution=event.resolution,
        )


def _apply(
    app: SyncApplication,
    envelope: Envelope,
    event: WireEvent,
    origin: str,
    host: str,
    evidence: dict[str, Any],
) -> list[Any]:
    if isinstance(event, _ASSESSMENT_FACTS):
        assessment = app.assessment(origin, event.member_id, event.year, host)
        _assessed(app, assessment, event, origin, host, evidence)
        return [assessment]
    if isinstance(event, ev.ArrivedUnannounced):
        if app.unannounced(origin, host, event.host_record_id) is not None:
            return []
        return [
            UnannouncedArrival(
                origin_place=origin,
                host_place=host,
                host_record_id=event.host_record_id,
                reported_on=event.reported_on,
                evidence=evidence,
            )
        ]
    if isinstance(event, ev.ArrivalConfirmed):
        arrival = app.unannounced(origin, host, event.host_record_id)
        if arrival is None:
            raise InboundRejected("reconciliation.unknown_arrival", "no unannounced arrival")
        arrival.confirm(member_id=event.member_id, evidence=evidence)
        return [arrival]
    return _membership(app, envelope, event, origin, host, evidence)


def _membership(
    app: SyncApplication,
    envelope: Envelope,
    event: WireEvent,
    origin: str,
    host: str,
    evidence: dict[str, Any],
) -> list[Any]:
    if not isinstance(event, ev.MemberFact) or isinstance(
        event,
        ev.MemberDetailsCorrected
        | ev.BranchAssigned
        | ev.ActivityAttended
        | ev.AssistanceRequested
        | ev.AssistanceStatusChanged,
    ):
        return []
    pair = app.pair(origin, event.member_id)
    if isinstance(event, ev.MemberDeparted):
        pair.origin_departed(host_place=host, departed_on=event.departed_on, evidence=evidence)
        # The member is mobile this year: both sides owe an evaluation for it.
        assessment = app.assessment(origin, event.member_id, event.departed_on.year, host, evidence)
        return [pair, assessment]
    if isinstance(event, ev.MemberStatusChanged):
        pair.origin_status_changed(
            status=event.status, on=event.on, host_place=host, evidence=evidence
        )
    elif isinstance(event, ev.TransferLetterIssued):
        pair.letter_issued(
            letter_no=event.letter_no,
            host_place=host,
            issued_on=event.issued_on,
            valid_until=event.valid_until,
            evidence=evidence,
        )
    elif isinstance(event, ev.TransferLetterVoided):
        pair.letter_voided(letter_no=event.letter_no, evidence=evidence)
    elif isinstance(event, ev.MemberMovedAway):
        pair.origin_moved_on(
            from_host=host, to_host=event.to_host_place, moved_on=event.moved_on, evidence=evidence
        )
    elif isinstance(event, ev.MemberReported):
        pair.host_reported(host_place=host, reported_on=event.reported_on, evidence=evidence)
    elif isinstance(event, ev.ReportingOverdue):
        pair.host_reporting_overdue(host_place=host, due_on=event.due_on, evidence=evidence)
    elif isinstance(event, ev.MemberLeftHost):
        pair.host_left(host_place=host, left_on=event.left_on, evidence=evidence)
    elif isinstance(event, ev.TransferReceiptReturned):
        pair.receipt_returned(
            host_place=host,
            letter_no=event.letter_no,
            received_on=event.received_on,
            evidence=evidence,
        )
    elif isinstance(event, ev.TransferReceiptRecorded):
        pair.receipt_recorded(
            host_place=host,
            letter_no=event.letter_no,
            received_on=event.received_on,
            evidence=evidence,
        )
    else:
        return []
    return [pair]
