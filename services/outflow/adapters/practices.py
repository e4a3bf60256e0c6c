"""The origin's side of the practices' wire facts (docs/practices.md): certificate reissues and
cancellations and the county's decisions on host organisations go to the host; the host's
organisation proposals and changes, commitments and service hours are applied here. Registered
in exports.py and imports.py."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from services.outflow.domain.certificate_changes import CertificateChanges
from services.outflow.domain.host_organisation import HostOrganisationView
from services.outflow.domain.member import MobileMember
from services.outflow.domain.service_evidence import ServiceEvidence
from shared.contracts import events as wire
from shared.contracts import practice_events as practice
from shared.contracts.envelope import O2H, Envelope
from shared.messaging.receiver import InboundRejected
from shared.messaging.relay import Outbound

#: The only practice events a fact is made of (the relay reads no others for the exporter).
EXPORTED = (
    CertificateChanges.CertificateReissued,
    CertificateChanges.CertificateCancelled,
    HostOrganisationView.Decided,
)


def export_practice(app: Any, event: Any) -> list[Outbound] | None:
    """The facts of one practice event, or None when the event is none of the practices'."""
    if isinstance(
        event, CertificateChanges.CertificateReissued | CertificateChanges.CertificateCancelled
    ):
        if event.host_place is None:
            return []
        ids = {
            "member_id": str(event.originator_id),
            "origin_place": app.place,
            "host_place": event.host_place,
        }
        if isinstance(event, CertificateChanges.CertificateReissued):
            fact: wire.WireEvent = practice.CertificateReissued(
                **ids,
                void_no=event.void_no,
                certificate_no=event.certificate_no,
                reason=event.reason,
                reissued_on=event.reissued_on,
                valid_until=event.valid_until,
            )
        else:
            fact = practice.CertificateCancelled(
                **ids,
                certificate_no=event.certificate_no,
                reason=event.reason,
                cancelled_on=event.cancelled_on,
            )
        return [_out(event.host_place, ids["member_id"], fact)]
    if isinstance(event, HostOrganisationView.Decided):
        view = app.repository.get(event.originator_id, version=event.originator_version)
        fact = practice.OrganisationChangeDecided(
            organisation_id=view.organisation_id,
            origin_place=view.origin_place,
            host_place=view.host_place,
            proposal_id=event.proposal_id,
            decision=event.decision,
            decided_by=event.decided_by,
            decided_on=event.decided_on,
            reason=event.reason,
        )
        return [_out(view.host_place, view.organisation_id, fact)]
    return None


def _out(host_place: str, stream: str, fact: wire.WireEvent) -> Outbound:
    return Outbound(to_place=host_place, direction=O2H, member_id=stream, event=fact)


def _hosted_member(app: Any, envelope: Envelope, member_id: str) -> MobileMember:
    """A host speaks only for members it hosts (or hosted: late evidence is still history)."""
    try:
        member = app.repository.get(UUID(member_id))
    except (AggregateNotFoundError, ValueError):
        member = None
    if not isinstance(member, MobileMember):
        raise InboundRejected("inbound.unknown_member", f"no member {member_id}")
    if member.host_place != envelope.from_place and not member.hosted_before_by(
        envelope.from_place
    ):
        raise InboundRejected(
            "inbound.not_your_member", f"member is not hosted by {envelope.from_place}"
        )
    return member


def _evidence(app: Any, member: MobileMember) -> ServiceEvidence:
    return app.service_evidence(member.id) or ServiceEvidence(str(member.id))


def _commitment(app: Any, envelope: Envelope, event: practice.CommitmentMade) -> list[Any]:
    evidence = _evidence(app, _hosted_member(app, envelope, event.member_id))
    evidence.record_commitment(
        host_place=event.host_place, year=event.year, text=event.text, made_on=event.made_on
    )
    return [evidence]


def _service(app: Any, envelope: Envelope, event: practice.ServiceRecorded) -> list[Any]:
    evidence = _evidence(app, _hosted_member(app, envelope, event.member_id))
    if evidence.knows_entry(event.entry_id):
        return []
    evidence.record_service(
        host_place=event.host_place,
        entry_id=event.entry_id,
        team=event.team,
        kind=event.kind,
        served_on=event.served_on,
        hours=event.hours,
    )
    return [evidence]


def _view(app: Any, event: Any) -> HostOrganisationView:
    view = app.host_organisation(event.host_place)
    if view is None:
        view = HostOrganisationView(
            origin_place=event.origin_place,
            host_place=event.host_place,
            organisation_id=event.organisation_id,
        )
    elif view.organisation_id != event.organisation_id:
        raise InboundRejected(
            "inbound.unknown_organisation", f"no organisation {event.organisation_id}"
        )
    return view


def _proposed(app: Any, _: Envelope, event: practice.OrganisationChangeProposed) -> list[Any]:
    view = _view(app, event)
    if event.proposal_id in view.proposals:
        return []
    view.receive_proposal(
        proposal_id=event.proposal_id,
        to_level=event.to_level,
        name=event.name,
        reason=event.reason,
        proposed_on=event.proposed_on,
        branches=[b.model_dump() for b in event.branches],
        member_count=event.member_count,
    )
    return [view]


def _applied(app: Any, _: Envelope, event: practice.OrganisationChangeApplied) -> list[Any]:
    view = _view(app, event)
    if view.proposals.get(event.proposal_id, {}).get("state") != "approved":
        raise InboundRejected(
            "inbound.not_approved", f"proposal {event.proposal_id} was not approved here"
        )
    view.record_applied(
        proposal_id=event.proposal_id,
        level=event.level,
        name=event.name,
        applied_on=event.applied_on,
        branches=[b.model_dump() for b in event.branches],
        member_count=event.member_count,
    )
    return [view]


def _tree_reported(app: Any, _: Envelope, event: practice.OrganisationTreeReported) -> list[Any]:
    view = _view(app, event)
    view.record_report(
        level=event.level,
        name=event.name,
        reported_on=event.reported_on,
        branches=[b.model_dump() for b in event.branches],
        member_count=event.member_count,
    )
    return [view]


PRACTICE_HANDLERS: dict[type, Any] = {
    practice.CommitmentMade: _commitment,
    practice.ServiceRecorded: _service,
    practice.OrganisationChangeProposed: _proposed,
    practice.OrganisationChangeApplied: _applied,
    practice.OrganisationTreeReported: _tree_reported,
}
