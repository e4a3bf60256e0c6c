"""Wire facts of the seeds' practices (docs/practices.md): organisations that grow,
commitments and service, the activity certificate. Versioned and bounded like every fact of the
contract (`events.py`, whose import registers these too).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from shared.contracts.facts import MemberFact
from shared.contracts.fields import CertificateNo, RecordId
from shared.contracts.registry import WireEvent, wire_event
from shared.validation.bounds import Code, Count, Day, PlaceCode, Text, Year

OrgLevel = Literal["branches", "general_branch", "committee"]


class BranchCount(WireEvent):
    """One branch of a host organisation tree with its members of the fact's origin county (not
    registered: a part of the tree facts)."""

    branch_id: Code(36)
    name: Text(200)
    members: Count(10_000)


class OrganisationFact(WireEvent):
    """A fact about the organisation the host keeps for one origin county's members there; keyed
    by the host's organisation record, not by a member."""

    organisation_id: RecordId
    origin_place: PlaceCode
    host_place: PlaceCode


@wire_event("organisation.change_proposed", 1)
class OrganisationChangeProposed(OrganisationFact):
    """h2o: the host proposes a general branch (党总支) or a committee (党委) above its branches,
    with the tree and member counts it is computed from; the origin county approves or refuses."""

    proposal_id: RecordId
    to_level: OrgLevel
    name: Text(200)
    reason: Text(500, min_len=0, multiline=True) = ""
    proposed_on: Day
    branches: list[BranchCount] = Field(default_factory=list, max_length=500)
    member_count: Count(100_000)


@wire_event("organisation.change_decided", 1)
class OrganisationChangeDecided(OrganisationFact):
    """o2h: the origin county's decision on a proposal (approved, or refused with a reason)."""

    proposal_id: RecordId
    decision: Literal["approved", "refused"]
    decided_by: Text(200)
    decided_on: Day
    reason: Text(500, min_len=0, multiline=True) = ""


@wire_event("organisation.change_applied", 1)
class OrganisationChangeApplied(OrganisationFact):
    """h2o: the host applied an approved change; the tree as it stands now."""

    proposal_id: RecordId
    level: OrgLevel
    name: Text(200)
    applied_on: Day
    branches: list[BranchCount] = Field(default_factory=list, max_length=500)
    member_count: Count(100_000)


@wire_event("organisation.tree_reported", 1)
class OrganisationTreeReported(OrganisationFact):
    """h2o: the tree as it stands, with its member counts, reported by the host office when it
    likes (a monthly report, before a proposal is due): no change, the counts only."""

    level: OrgLevel
    name: Text(200, min_len=0)
    reported_on: Day
    branches: list[BranchCount] = Field(default_factory=list, max_length=500)
    member_count: Count(100_000)


@wire_event("member.commitment_made", 1)
class CommitmentMade(MemberFact):
    """h2o: the member's public commitment for a year (党员承诺 / 亮牌), recorded at the host."""

    year: Year
    text: Text(1000, multiline=True)
    made_on: Day


@wire_event("member.service_recorded", 1)
class ServiceRecorded(MemberFact):
    """h2o: hours the member served in a host service team (volunteer team, 三送一扶 visit)."""

    entry_id: RecordId
    team: Text(200)
    kind: Literal["volunteer_team", "three_sends_one_help", "other"]
    served_on: Day
    hours: Annotated[float, Field(gt=0, le=24)]


@wire_event("certificate.reissued", 1)
class CertificateReissued(MemberFact):
    """o2h: a lost (or damaged) activity certificate was reissued: the old number is void, the
    member reports and is known by the new one."""

    void_no: CertificateNo
    certificate_no: CertificateNo
    reason: Literal["lost", "damaged", "expired"]
    reissued_on: Day
    valid_until: Day


@wire_event("certificate.cancelled", 1)
class CertificateCancelled(MemberFact):
    """o2h: the activity certificate was cancelled (注销): its number is void, no current one."""

    certificate_no: CertificateNo
    reason: Text(200)
    cancelled_on: Day
