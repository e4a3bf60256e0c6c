"""Facts from origin counties, applied to the host's record (the inbound contract).

Every fact must come from the member's own origin and be about a member this host holds;
anything else is refused with `InboundRejected` (dead-lettered with its reason, never applied).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from services.inflow.adapters.practices import PRACTICE_HANDLERS
from services.inflow.application import InflowApplication
from services.inflow.domain.assistance import AssistanceRequest
from services.inflow.domain.errors import DomainError
from services.inflow.domain.links import OriginLink
from services.inflow.domain.member import HostedMember, HostStatus, hosted_member_id
from shared.contracts import events as wire
from shared.contracts.envelope import Envelope
from shared.contracts.registry import WireEvent
from shared.eventsourced import LiangdiApplication
from shared.messaging.receiver import Importer, InboundRejected


def importer_for(base: LiangdiApplication) -> Importer:
    app: InflowApplication = base  # type: ignore[assignment]

    def apply(envelope: Envelope, event: WireEvent) -> list[Any]:
        if getattr(event, "host_place", app.place) != app.place:
            raise InboundRejected("inbound.wrong_host", "fact is addressed to another host")
        if getattr(event, "origin_place", envelope.from_place) != envelope.from_place:
            raise InboundRejected("inbound.wrong_origin", "origin differs from the sender")
        handler = _HANDLERS.get(type(event))
        if handler is None:
            raise InboundRejected(
                "inbound.unhandled", f"host does not apply {type(event).__name__}"
            )
        try:
            return handler(app, envelope, event)
        except DomainError as exc:
            raise InboundRejected(f"inbound.{exc.code}", exc.message) from None

    def lookups(_: Envelope, event: WireEvent) -> list[UUID]:
        """The records a fact's import looks up first (read for a whole batch at once)."""
        member_id = getattr(event, "member_id", None)
        found = [hosted_member_id(app.place, member_id)] if isinstance(member_id, str) else []
        if isinstance(event, wire.MemberDeparted):
            found.append(app.person_index_id(event.origin_place, event.resident_id.strip().upper()))
        return found

    apply.lookups = lookups  # type: ignore[attr-defined]
    return apply


def _hosted(app: InflowApplication, event: Any, *, owned_by_origin: bool = True) -> HostedMember:
    member = app.find_by_origin_member(event.member_id)
    if member is None:
        raise InboundRejected("inbound.not_hosted_here", f"no member {event.member_id} here")
    if member.origin_place != event.origin_place:
        raise InboundRejected("inbound.wrong_origin", "member belongs to another origin")
    if owned_by_origin and member.status == HostStatus.RECEIVED:
        raise InboundRejected(
            "inbound.record_transferred", "membership was transferred in; the host owns it"
        )
    return member


def _departed(app: InflowApplication, _: Envelope, event: wire.MemberDeparted) -> list[Any]:
    existing = app.find_by_origin_member(event.member_id)
    if existing is not None and (
        existing.status != HostStatus.LEFT or existing.origin_place != event.origin_place
    ):
        raise InboundRejected("inbound.already_hosted", "member already has a host record")
    resident_id = event.resident_id.strip().upper()
    walk_in = app.person_record(event.origin_place, resident_id)
    if walk_in is not None and walk_in.linkable_walk_in():
        # The member reported here unannounced (未报先到) before the origin recorded this
        # departure: the same record takes it, never a second one (docs/flows.md).
        walk_in.link_departure(
            origin_member_id=event.member_id,
            sex=event.sex,
            employer=event.employer,
            host_address=event.host_address,
            departed_on=event.departed_on,
            certificate_no=event.certificate_no,
        )
        return [walk_in, *_hand_on(app, event.member_id, walk_in.id)]
    if existing is not None:
        existing.expect_again(
            employer=event.employer,
            host_address=event.host_address,
            departed_on=event.departed_on,
            certificate_no=event.certificate_no,
        )
        return [existing]
    expected = HostedMember.expect(
        host_place=app.place,
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
    return [expected, app.index_person(event.origin_place, resident_id, expected.id)]


def _hand_on(app: InflowApplication, origin_member_id: str, record_id: UUID) -> list[Any]:
    """What makes `record_id` the record the origin's member id finds: a new link, the link
    pointed at it, or the member's last (left) record saying it was succeeded by it."""
    try:
        held = app.repository.get(hosted_member_id(app.place, origin_member_id))
    except AggregateNotFoundError:
        return [
            OriginLink(
                host_place=app.place, origin_member_id=origin_member_id, host_record_id=record_id
            )
        ]
    if isinstance(held, OriginLink):
        if held.host_record_id == record_id:
            return []
        held.relink(host_record_id=record_id)
        return [held]
    last = app.find_by_origin_member(origin_member_id)
    if last is None or last.id == record_id:
        return []
    last.supersede(by_record_id=str(record_id))
    return [last]


def _confirmed(app: InflowApplication, _: Envelope, event: wire.ArrivalConfirmed) -> list[Any]:
    try:
        member = app.get_member(UUID(event.host_record_id))
    except (ValueError, DomainError):
        raise InboundRejected("inbound.not_hosted_here", "no such host record") from None
    if member.origin_place != event.origin_place:
        raise InboundRejected("inbound.wrong_origin", "the record names another origin")
    if member.confirmed:
        raise InboundRejected("inbound.already_confirmed", "this arrival is already confirmed")
    current = app.find_by_origin_member(event.member_id)
    handed_on: list[Any] = []
    if current is None or current.id != member.id:
        if current is not None and member.status == HostStatus.LEFT:
            # The walk-in has left again meanwhile and the member has a newer record here:
            # the confirmation only names whom the old walk-in record was.
            handed_on = []
        elif current is None or current.status == HostStatus.LEFT:
            # New here, or back after leaving: the walk-in's record is theirs from now on.
            handed_on = _hand_on(app, event.member_id, member.id)
        else:
            raise InboundRejected("inbound.already_hosted", "member already has a host record")
    # (current is the walk-in: the departure already linked it, docs/flows.md.)
    member.confirm_origin(origin_member_id=event.member_id, certificate_no=event.certificate_no)
    return [member, *handed_on]


def _corrected(app: InflowApplication, _: Envelope, event: wire.MemberDetailsCorrected):  # type: ignore[no-untyped-def]
    member = _hosted(app, event)
    fields = ("name", "phone", "employer", "host_address")
    changes = {f: getattr(event, f) for f in fields if getattr(event, f) is not None}
    if not changes:
        raise InboundRejected("inbound.empty_correction", "correction changes nothing")
    member.correct_details(changes=changes, by_origin=True)
    return [member]


def _status(app: InflowApplication, _: Envelope, event: wire.MemberStatusChanged):  # type: ignore[no-untyped-def]
    member = _hosted(app, event)
    member.origin_status_changed(status=event.status, reason_code=event.reason_code, on=event.on)
    # Returned or removed at the origin: gone from the host, so from its branch too.
    return [member, *app.branch_after_departure(member)]


def _moved_away(app: InflowApplication, _: Envelope, event: wire.MemberMovedAway):  # type: ignore[no-untyped-def]
    member = _hosted(app, event)
    member.origin_status_changed(status="moved", reason_code=None, on=event.moved_on)
    return [member, *app.branch_after_departure(member)]


def _letter(app: InflowApplication, _: Envelope, event: wire.TransferLetterIssued):  # type: ignore[no-untyped-def]
    # Kept whatever the record's state here (expected: the member may arrive with the letter;
    # left: the host's leaving may have crossed the letter on the wire), so that the receipt,
    # or the letter's voiding, always finds it (docs/flows.md, "Transfer of membership").
    member = _hosted(app, event)
    member.receive_letter(
        letter_no=event.letter_no,
        receiving_organisation=event.receiving_organisation,
        issued_on=event.issued_on,
        valid_until=event.valid_until,
    )
    return [member]


def _voided(app: InflowApplication, _: Envelope, event: wire.TransferLetterVoided):  # type: ignore[no-untyped-def]
    member = _hosted(app, event, owned_by_origin=False)
    if member.status == HostStatus.RECEIVED:
        # This host received the member (on this letter): the void crossed the receipt, and
        # the origin lets go on the receipt (docs/flows.md, "Transfer of membership").
        return []
    if member.letter is None or member.letter["letter_no"] != event.letter_no:
        raise InboundRejected("inbound.unknown_letter", f"no pending letter {event.letter_no}")
    member.void_letter(letter_no=event.letter_no, reason=event.reason)
    return [member]


def _receipt_recorded(app: InflowApplication, _: Envelope, event: wire.TransferReceiptRecorded):  # type: ignore[no-untyped-def]
    # Idempotent with the host's own receipt: a record already received here stays as it is.
    member = _hosted(app, event, owned_by_origin=False)
    taken = member.take_over_on_origin_receipt(
        letter_no=event.letter_no,
        received_on=event.received_on,
        receiving_organisation=event.receiving_organisation,
    )
    return [member] if taken else []


def _origin_evaluated(app: InflowApplication, _: Envelope, event: wire.OriginEvaluated):  # type: ignore[no-untyped-def]
    evaluation = app.evaluation_for(_hosted(app, event, owned_by_origin=False), event.year)
    evaluation.record_origin_evaluation(grade=event.grade, comments=event.comments)
    return [evaluation]


def _jointly_reviewed(app: InflowApplication, _: Envelope, event: wire.AssessmentJointlyReviewed):  # type: ignore[no-untyped-def]
    evaluation = app.evaluation_for(_hosted(app, event, owned_by_origin=False), event.year)
    evaluation.record_joint_review(agreed_grade=event.agreed_grade, reviewed_on=event.reviewed_on)
    return [evaluation]


def _concluded(app: InflowApplication, _: Envelope, event: wire.AssessmentConcluded):  # type: ignore[no-untyped-def]
    evaluation = app.evaluation_for(_hosted(app, event, owned_by_origin=False), event.year)
    evaluation.conclude(
        grade=event.grade, origin_grade=event.origin_grade, host_grade=event.host_grade
    )
    return [evaluation]


def _assistance(app: InflowApplication, _: Envelope, event: wire.AssistanceStatusChanged):  # type: ignore[no-untyped-def]
    member = _hosted(app, event, owned_by_origin=False)
    try:
        request = app.repository.get(UUID(event.application_id))
    except (ValueError, AggregateNotFoundError):
        request = None
    if not isinstance(request, AssistanceRequest) or request.member_record_id != str(member.id):
        raise InboundRejected(
            "inbound.unknown_request", f"no assistance request {event.application_id} here"
        )
    request.change_status(status=event.status, amount_fen=event.amount_fen, reason=event.reason)
    return [request]


_HANDLERS: dict[type, Any] = {
    wire.MemberDeparted: _departed,
    wire.ArrivalConfirmed: _confirmed,
    wire.MemberDetailsCorrected: _corrected,
    wire.MemberStatusChanged: _status,
    wire.MemberMovedAway: _moved_away,
    wire.TransferLetterIssued: _letter,
    wire.TransferLetterVoided: _voided,
    wire.TransferReceiptRecorded: _receipt_recorded,
    wire.OriginEvaluated: _origin_evaluated,
    wire.AssessmentJointlyReviewed: _jointly_reviewed,
    wire.AssessmentConcluded: _concluded,
    wire.AssistanceStatusChanged: _assistance,
    **PRACTICE_HANDLERS,  # the organisation tree's decisions, certificate notices
}
