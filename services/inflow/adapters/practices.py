"""The host's side of the practices' wire facts (docs/practices.md): the organisation tree's
proposals and applied changes, commitments and service hours go to the origin; the origin's
decisions and certificate notices are applied here. Registered in exports.py and imports.py."""

from __future__ import annotations

from typing import Any

from services.inflow.domain.member import HostedMember, HostStatus
from services.inflow.domain.organisation import HostOrganisation
from services.inflow.domain.service_record import ServiceRecord
from shared.contracts import events as wire
from shared.contracts import practice_events as practice
from shared.contracts.envelope import H2O, Envelope
from shared.messaging.receiver import InboundRejected
from shared.messaging.relay import Outbound

_TREE_EVENTS = (
    HostOrganisation.ChangeProposed,
    HostOrganisation.ChangeApplied,
    HostOrganisation.TreeReported,
)
#: The only practice events a fact is made of (the relay reads no others for the exporter).
EXPORTED = (*_TREE_EVENTS, ServiceRecord.CommitmentMade, ServiceRecord.ServiceRecorded)


def export_practice(app: Any, event: Any) -> list[Outbound] | None:
    """The facts of one practice event, or None when the event is none of the practices'."""
    if isinstance(event, _TREE_EVENTS):
        tree = app.repository.get(event.originator_id, version=event.originator_version)
        return [_tree_fact(tree, event)]
    if isinstance(event, ServiceRecord.CommitmentMade | ServiceRecord.ServiceRecorded):
        if not event.to_origin:
            return []
        record = app.repository.get(event.originator_id, version=event.originator_version)
        names = {
            "member_id": record.origin_member_id,
            "origin_place": record.origin_place,
            "host_place": record.host_place,
        }
        if isinstance(event, ServiceRecord.CommitmentMade):
            fact: wire.WireEvent = practice.CommitmentMade(
                **names, year=event.year, text=event.text, made_on=event.made_on
            )
        else:
            fact = practice.ServiceRecorded(
                **names,
                entry_id=event.entry_id,
                team=event.team,
                kind=event.kind,
                served_on=event.served_on,
                hours=event.hours,
            )
        return [
            Outbound(
                to_place=record.origin_place,
                direction=H2O,
                member_id=record.origin_member_id,
                event=fact,
            )
        ]
    return None


def _tree_fact(tree: HostOrganisation, event: Any) -> Outbound:
    ids = {
        "organisation_id": str(tree.id),
        "origin_place": tree.origin_place,
        "host_place": tree.host_place,
    }
    branches = [practice.BranchCount(**b) for b in event.branches]
    if isinstance(event, HostOrganisation.ChangeProposed):
        fact: wire.WireEvent = practice.OrganisationChangeProposed(
            **ids,
            proposal_id=event.proposal_id,
            to_level=event.to_level,
            name=event.name,
            reason=event.reason,
            proposed_on=event.proposed_on,
            branches=branches,
            member_count=event.member_count,
        )
    elif isinstance(event, HostOrganisation.TreeReported):
        fact = practice.OrganisationTreeReported(
            **ids,
            level=tree.level,
            name=tree.name,
            reported_on=event.reported_on,
            branches=branches,
            member_count=event.member_count,
        )
    else:
        fact = practice.OrganisationChangeApplied(
            **ids,
            proposal_id=event.proposal_id,
            level=event.level,
            name=event.name,
            applied_on=event.approved_on,
            branches=branches,
            member_count=event.member_count,
        )
    # The tree's own stream: its facts keep their order, apart from any member's.
    return Outbound(to_place=tree.origin_place, direction=H2O, member_id=str(tree.id), event=fact)


def _decided(app: Any, envelope: Envelope, event: practice.OrganisationChangeDecided) -> list[Any]:
    tree = app.organisation(event.origin_place)
    if tree is None or str(tree.id) != event.organisation_id:
        raise InboundRejected(
            "inbound.unknown_organisation", f"no organisation {event.organisation_id} here"
        )
    tree.decide(
        proposal_id=event.proposal_id,
        decision=event.decision,
        decided_by=event.decided_by,
        decided_on=event.decided_on,
        reason=event.reason,
    )
    return [tree]


def _hosted(app: Any, event: Any) -> HostedMember:
    member = app.find_by_origin_member(event.member_id)
    if member is None or member.origin_place != event.origin_place:
        raise InboundRejected("inbound.not_hosted_here", f"no member {event.member_id} here")
    if member.status == HostStatus.RECEIVED:
        raise InboundRejected(
            "inbound.record_transferred", "membership was transferred in; the host owns it"
        )
    return member


def _reissued(app: Any, _: Envelope, event: practice.CertificateReissued) -> list[Any]:
    member = _hosted(app, event)
    return app.certificate_voided(
        member,
        number=event.void_no,
        reason=event.reason,
        on=event.reissued_on,
        replaced_by=event.certificate_no,
    )


def _cancelled(app: Any, _: Envelope, event: practice.CertificateCancelled) -> list[Any]:
    member = _hosted(app, event)
    return app.certificate_voided(
        member,
        number=event.certificate_no,
        reason=event.reason,
        on=event.cancelled_on,
        replaced_by=None,
    )


PRACTICE_HANDLERS: dict[type, Any] = {
    practice.OrganisationChangeDecided: _decided,
    practice.CertificateReissued: _reissued,
    practice.CertificateCancelled: _cancelled,
}
