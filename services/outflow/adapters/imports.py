"""Facts from host districts, applied to the origin's record (the inbound contract).

A host speaks only for members it currently hosts, and only as itself: the fact's `host_place`
must be the sender, and the member's recorded host must be the sender too.

Each handler returns the aggregates to save (the receiver saves them with its tracking record);
facts the domain refuses raise InboundRejected with a stable code, so they are dead-lettered
for an operator while the member's later facts still flow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from services.outflow.adapters.practices import PRACTICE_HANDLERS
from services.outflow.domain.arrivals import UnannouncedArrival, arrival_id_for, mismatches_of
from services.outflow.domain.errors import DomainError
from services.outflow.domain.member import MobileMember
from services.outflow.domain.status import CLOSED
from shared.contracts.envelope import Envelope
from shared.contracts.events import (
    ActivityAttended,
    ArrivedUnannounced,
    AssistanceRequested,
    BranchAssigned,
    HostEvaluated,
    MemberLeftHost,
    MemberReported,
    ReportingOverdue,
    TransferReceiptReturned,
)
from shared.contracts.registry import WireEvent
from shared.messaging.receiver import Importer, InboundRejected
from shared.validation import ValidationFailed
from shared.validation.bounds import china_today

Handler = Callable[[Any, Envelope, Any], list[Any]]


def importer_for(app: Any) -> Importer:
    def apply(envelope: Envelope, event: WireEvent) -> list[Any]:
        origin = getattr(event, "origin_place", app.place)
        if origin != app.place:
            raise InboundRejected("inbound.wrong_origin", f"fact is for origin {origin}")
        # A host speaks only for itself: the fact's host is the place that signed it.
        host = getattr(event, "host_place", envelope.from_place)
        if host != envelope.from_place:
            raise InboundRejected(
                "inbound.not_your_member", f"fact names host {host}, sent by {envelope.from_place}"
            )
        handler = _HANDLERS.get(type(event))
        if handler is None:
            raise InboundRejected(
                "inbound.unhandled", f"origin does not apply {type(event).__name__}"
            )
        try:
            return handler(app, envelope, event)
        except (DomainError, ValidationFailed) as exc:
            raise InboundRejected(exc.code, exc.message) from None

    return apply


def _hosted_member(
    app: Any, envelope: Envelope, member_id: str, *, or_former: bool = False
) -> MobileMember:
    """The member, checked to be hosted by the sender: a host writes only its own members.
    With `or_former`, a host the member moved on from too (its late facts are history)."""
    try:
        member = app.repository.get(UUID(member_id))
    except (AggregateNotFoundError, ValueError):
        raise InboundRejected("inbound.unknown_member", f"no member {member_id}") from None
    if not isinstance(member, MobileMember):
        raise InboundRejected("inbound.unknown_member", f"no member {member_id}")
    if member.host_place != envelope.from_place and not (
        or_former and member.hosted_before_by(envelope.from_place)
    ):
        raise InboundRejected(
            "inbound.not_your_member",
            f"member is hosted by {member.host_place}, not {envelope.from_place}",
        )
    return member


def _closed(member: MobileMember) -> bool:
    """The origin closed the record (transferred, removed): a host fact that crossed the closing
    on the wire is the host's own history now; it is applied as nothing, never refused."""
    return member.status in CLOSED


def _superseded(member: MobileMember, envelope: Envelope) -> bool:
    """A host's leaving, overdue flag or branch change that a move to another host, a return home
    or the record's closing has overtaken: applied as nothing."""
    return member.host_place != envelope.from_place or _closed(member)


def _host(envelope: Envelope) -> str:
    return f"host:{envelope.from_place}"


def _reported(app: Any, envelope: Envelope, event: MemberReported) -> list[Any]:
    member = _hosted_member(app, envelope, event.member_id, or_former=True)
    if _closed(member):
        return []
    member._not_before_birth(event.reported_on, "reporting.before_birth", "report date")
    if member.host_place != envelope.from_place:
        # Reported at a host the member has since moved on from: contact, and history.
        member.record_contact(
            kind="report",
            on=event.reported_on,
            source=envelope.from_place,
            note=f"reported at {envelope.from_place} before moving on",
            recorded_by=_host(envelope),
            today=china_today(),
        )
        return [member]
    member.record_host_report(
        host_place=envelope.from_place,
        reported_on=event.reported_on,
        certificate_no=event.certificate_no,
    )
    member._restore_if_lost(event.reported_on, _host(envelope), "contact restored (report)")
    return [member]


def _overdue(app: Any, envelope: Envelope, event: ReportingOverdue) -> list[Any]:
    member = _hosted_member(app, envelope, event.member_id, or_former=True)
    if _superseded(member, envelope):
        return []
    member._ensure_open()
    member.record_reporting_overdue(host_place=envelope.from_place, due_on=event.due_on)
    return [member]


def _branch(app: Any, envelope: Envelope, event: BranchAssigned) -> list[Any]:
    member = _hosted_member(app, envelope, event.member_id, or_former=True)
    if _superseded(member, envelope):
        return []
    member._ensure_open()
    member.record_branch_assigned(
        host_place=envelope.from_place, branch_id=event.branch_id, branch_name=event.branch_name
    )
    return [member]


def _activity(app: Any, envelope: Envelope, event: ActivityAttended) -> list[Any]:
    member = _hosted_member(app, envelope, event.member_id, or_former=True)
    if _closed(member):
        return []
    member.record_contact(
        kind="activity",
        on=event.held_on,
        source=envelope.from_place,
        note=f"{event.kind}: {event.title} ({event.organiser}) #{event.activity_id}",
        recorded_by=_host(envelope),
        today=china_today(),
    )
    return [member]


def _left(app: Any, envelope: Envelope, event: MemberLeftHost) -> list[Any]:
    member = _hosted_member(app, envelope, event.member_id, or_former=True)
    if _superseded(member, envelope):
        return []
    member._ensure_open()
    member.record_left_host(
        host_place=envelope.from_place,
        left_on=event.left_on,
        reason=event.reason,
        destination=event.destination,
    )
    return [member]


def _receipt(app: Any, envelope: Envelope, event: TransferReceiptReturned) -> list[Any]:
    member = _hosted_member(app, envelope, event.member_id, or_former=True)
    if member.receipt_recorded(event.letter_no):
        # The receipt on paper was recorded here first; the host took the record over on it.
        return []
    member.take_host_receipt(
        letter_no=event.letter_no,
        received_on=event.received_on,
        host_place=envelope.from_place,
        recorded_by=_host(envelope),
    )
    return [member]


def _host_evaluated(app: Any, envelope: Envelope, event: HostEvaluated) -> list[Any]:
    member = _hosted_member(app, envelope, event.member_id, or_former=True)
    assessment = app._assessment_or_new(member.id, event.year)
    assessment.record_host_evaluation(
        grade=event.grade,
        attendance_count=event.attendance_count,
        comments=event.comments,
        host_place=envelope.from_place,
    )
    return [assessment]


def _assistance(app: Any, envelope: Envelope, event: AssistanceRequested) -> list[Any]:
    # Also from a host the member moved on from, and on a closed record: the application is
    # recorded (and rejected by rule when the member is not eligible), so its host hears why.
    member = _hosted_member(app, envelope, event.member_id, or_former=True)
    return app.assistance_requested_by_host(
        member,
        host_place=envelope.from_place,
        request_id=event.request_id,
        amount_fen=event.amount_fen,
        reason=event.reason,
        requested_on=event.requested_on,
    )


def _unannounced(app: Any, envelope: Envelope, event: ArrivedUnannounced) -> list[Any]:
    """Matched by resident ID; what does not fit is shown until an operator confirms."""
    if event.host_place != envelope.from_place:
        raise InboundRejected("inbound.not_your_member", "host place differs from the sender")
    arrival_id = arrival_id_for(envelope.from_place, event.host_record_id)
    if app._find(arrival_id) is not None:
        return []
    member = app._find(app.member_id_of(event.resident_id.strip().upper()))
    arrival = UnannouncedArrival(
        host_place=envelope.from_place,
        host_record_id=event.host_record_id,
        name=event.name,
        resident_id=event.resident_id,
        phone=event.phone,
        reported_on=event.reported_on,
        certificate_no=event.certificate_no,
        member_id=member.id if member else None,
        mismatches=mismatches_of(
            member,
            host_place=envelope.from_place,
            name=event.name,
            phone=event.phone,
            certificate_no=event.certificate_no,
        ),
    )
    return [arrival]


_HANDLERS: dict[type, Handler] = {
    MemberReported: _reported,
    ReportingOverdue: _overdue,
    BranchAssigned: _branch,
    ActivityAttended: _activity,
    MemberLeftHost: _left,
    TransferReceiptReturned: _receipt,
    HostEvaluated: _host_evaluated,
    AssistanceRequested: _assistance,
    ArrivedUnannounced: _unannounced,
    **PRACTICE_HANDLERS,  # host organisations, commitments and service (docs/practices.md)
}
