"""Wire events, by direction: the whole contract between an origin and its hosts.

Receivers depend on these schemas only. To change one: add a new version with `@wire_event(name,
n+1)` and register an `@upcaster(name, n)` that turns version n data into n+1, so older messages
still in flight are upcast, not rejected.

Every field is bounded (`shared.validation.bounds`) to what the receiving place's stores and read
models can hold: a fact out of range is dead-lettered with reason `schema: ...` and never stored,
so no place can stop another with one value (docs/security.md, "Bounded values").
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import model_validator

# The seeds' practices have a module of their own (practice_events.py); imported here, they are
# registered with the rest of the contract wherever the contract is.
from shared.contracts import practice_events  # noqa: F401
from shared.contracts.facts import Grade, MemberFact
from shared.contracts.fields import (
    Address,
    CertificateNo,
    Comments,
    LetterNo,
    MemberId,
    Note,
    Org,
    PersonName,
    Phone,
    Reason,
    RecordId,
    Reference,
    ResidentId,
)
from shared.contracts.registry import WireEvent, upcaster, wire_event
from shared.validation.bounds import (
    AmountFen,
    Code,
    Count,
    Day,
    PlaceCode,
    Text,
    Year,
    not_before_birth,
)

# --- origin → host (o2h) ---------------------------------------------------------------------


@wire_event("member.departed", 1)
class MemberDeparted(MemberFact):
    """The origin recorded a departure to this host, with the activity certificate number."""

    name: PersonName
    resident_id: ResidentId
    sex: Literal["male", "female"]
    phone: Phone
    origin_branch: Org
    employer: Org
    host_address: Address
    reason: Reason
    expected_months: Count(240, minimum=1)
    departed_on: Day
    certificate_no: CertificateNo

    @model_validator(mode="after")
    def _not_before_birth(self) -> MemberDeparted:
        not_before_birth(self.departed_on, self.resident_id, "departed_on")
        return self


@wire_event("member.details_corrected", 1)
class MemberDetailsCorrected(MemberFact):
    """The origin corrected a member's details; only the changed fields are present."""

    name: PersonName | None = None
    phone: Phone | None = None
    employer: Org | None = None
    host_address: Address | None = None


@wire_event("member.status_changed", 1)
class MemberStatusChanged(MemberFact):
    """Returned home, lost contact (with reason code), suspended, restored or removed."""

    status: Literal["returned", "lost", "suspended", "restored", "removed", "departed"]
    reason_code: Code(40) | None = None
    on: Day


@wire_event("member.arrival_confirmed", 1)
class ArrivalConfirmed(MemberFact):
    """The origin confirms an unannounced arrival reported at the host (host record id given)."""

    host_record_id: RecordId
    certificate_no: CertificateNo | None = None


@wire_event("transfer.letter_issued", 1)
class TransferLetterIssued(MemberFact):
    """An introduction letter (介绍信) for transferring membership to a host organisation."""

    letter_no: LetterNo
    receiving_organisation: Org
    issued_on: Day
    valid_until: Day


@wire_event("member.moved_away", 1)
class MemberMovedAway(MemberFact):
    """The member moved on from this host to another place (异地流动): the origin recorded the
    move, the new host expects them, and this host closes its record (`host_place` is the host
    the fact goes to, the one left behind)."""

    to_host_place: PlaceCode
    moved_on: Day


@wire_event("transfer.letter_voided", 1)
class TransferLetterVoided(MemberFact):
    letter_no: LetterNo
    reason: Text(300, multiline=True)


@wire_event("transfer.receipt_recorded", 1)
class TransferReceiptRecorded(MemberFact):
    """The origin recorded the receipt (回执) of its letter, on paper or from the host's own
    receipt: the origin's record is closed and the host owns the member from now on."""

    letter_no: LetterNo
    received_on: Day
    receiving_organisation: Org


@wire_event("assessment.concluded", 2)
class AssessmentConcluded(MemberFact):
    """The origin's final grade for a year (民主评议), final for both sides. `resolution` says why
    it stands when the sides disagreed (the joint review, or one held on paper)."""

    year: Year
    grade: Grade
    origin_grade: Grade | None = None
    host_grade: Grade | None = None
    resolution: Comments = ""


@upcaster("assessment.concluded", 1)
def _concluded_v1(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "resolution": ""}


@wire_event("assessment.jointly_reviewed", 1)
class AssessmentJointlyReviewed(MemberFact):
    """The outcome of the joint review (联合评议) of a year whose two evaluations disagree,
    recorded at the origin: the grade both sides agreed, before the origin concludes."""

    year: Year
    agreed_grade: Grade
    reviewed_on: Day
    notes: Comments = ""
    origin_grade: Grade | None = None
    host_grade: Grade | None = None


@wire_event("assessment.origin_evaluated", 1)
class OriginEvaluated(MemberFact):
    """The origin's own evaluation for a year, before the conclusion."""

    year: Year
    grade: Grade
    comments: Text(1000, min_len=0, multiline=True) = ""


@wire_event("assistance.status_changed", 1)
class AssistanceStatusChanged(MemberFact):
    """What became of a hardship assistance application (approved, in notice, paid, rejected)."""

    application_id: Reference
    status: Literal["under_review", "approved", "in_public_notice", "paid", "rejected"]
    amount_fen: AmountFen
    reason: Note = ""


# --- host → origin (h2o) ---------------------------------------------------------------------


@wire_event("member.reported", 1)
class MemberReported(MemberFact):
    """The member reported (报到) to the host with their certificate."""

    reported_on: Day
    certificate_no: Code(40, allow_empty=True)


@wire_event("member.arrived_unannounced", 1)
class ArrivedUnannounced(WireEvent):
    """Someone reported at the host whom no departure announced; the origin is asked to confirm.

    `member_id` is empty: the host does not know the origin's id; the origin matches by ID number.
    """

    host_record_id: RecordId
    origin_place: PlaceCode
    host_place: PlaceCode
    name: PersonName
    resident_id: ResidentId
    phone: Phone
    reported_on: Day
    certificate_no: CertificateNo | None = None

    @model_validator(mode="after")
    def _not_before_birth(self) -> ArrivedUnannounced:
        not_before_birth(self.reported_on, self.resident_id, "reported_on")
        return self


@wire_event("member.reporting_overdue", 1)
class ReportingOverdue(MemberFact):
    due_on: Day


@wire_event("member.branch_assigned", 2)
class BranchAssigned(MemberFact):
    """The member's branch at the host changed (docs/flows.md, "Branches"): assigned, moved to
    another (also when their branch merged into another), or none any more (removed, or the branch
    dissolved: then `branch_id` and `branch_name` are empty). v2 added `change` and `reason`."""

    branch_id: Code(36, allow_empty=True)
    branch_name: Text(200, min_len=0)
    change: Literal["assigned", "moved", "merged", "removed", "dissolved"] = "assigned"
    reason: Reason | Literal[""] = ""


@upcaster("member.branch_assigned", 1)
def _branch_assigned_v1(data: dict[str, Any]) -> dict[str, Any]:
    # Version 1 only ever assigned (a move then went unannounced as such).
    return data | {"change": "assigned"}


@wire_event("activity.attended", 1)
class ActivityAttended(MemberFact):
    """Attendance at an activity; counts as contact for the origin's lost-contact clock."""

    activity_id: MemberId
    kind: Literal["monthly_activity_day", "study_session", "service", "other"]
    title: Org
    held_on: Day
    organiser: Org


@wire_event("assessment.host_evaluated", 1)
class HostEvaluated(MemberFact):
    """The host's evaluation of the member for a year, with the evidence."""

    year: Year
    grade: Grade
    attendance_count: Count(10_000)
    comments: Comments = ""


@wire_event("assistance.requested", 1)
class AssistanceRequested(MemberFact):
    """The host raises a hardship assistance application for the member."""

    request_id: Reference
    amount_fen: AmountFen
    reason: Text(500, multiline=True)
    requested_on: Day


@wire_event("member.left_host", 1)
class MemberLeftHost(MemberFact):
    left_on: Day
    reason: Literal["returned_home", "moved_on", "other"]
    destination: Text(200, min_len=0) = ""


@wire_event("transfer.receipt_returned", 1)
class TransferReceiptReturned(MemberFact):
    """The receiving organisation's receipt (回执): from now on the host owns the record."""

    letter_no: LetterNo
    received_on: Day
    receiving_organisation: Org
