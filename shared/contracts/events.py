"""Wire events, by direction: the whole contract between an origin and its hosts.

Receivers depend on these schemas only. To change one: add a new version with `@wire_event(name,
n+1)` and register an `@upcaster(name, n)` that turns version n data into n+1, so older messages
still in flight are upcast, not rejected.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from shared.contracts.registry import WireEvent, wire_event

PLACE = Field(pattern=r"^\d{6}$")
FEN = Field(gt=0, description="integer fen (分)")
Grade = Literal["excellent", "competent", "basically_competent", "not_competent"]


class MemberFact(WireEvent):
    """Every fact names the member (the origin's member id) and both places."""

    member_id: str
    origin_place: str = PLACE
    host_place: str = PLACE


# --- origin → host (o2h) ---------------------------------------------------------------------


@wire_event("member.departed", 1)
class MemberDeparted(MemberFact):
    """The origin recorded a departure to this host, with the activity certificate number."""

    name: str
    resident_id: str
    sex: str
    phone: str
    origin_branch: str
    employer: str
    host_address: str
    reason: str
    expected_months: int = Field(ge=1)
    departed_on: date
    certificate_no: str


@wire_event("member.details_corrected", 1)
class MemberDetailsCorrected(MemberFact):
    """The origin corrected a member's details; only the changed fields are present."""

    name: str | None = None
    phone: str | None = None
    employer: str | None = None
    host_address: str | None = None


@wire_event("member.status_changed", 1)
class MemberStatusChanged(MemberFact):
    """Returned home, lost contact (with reason code), suspended, restored or removed."""

    status: Literal["returned", "lost", "suspended", "restored", "removed", "departed"]
    reason_code: str | None = None
    on: date


@wire_event("member.arrival_confirmed", 1)
class ArrivalConfirmed(MemberFact):
    """The origin confirms an unannounced arrival reported at the host (host record id given)."""

    host_record_id: str
    certificate_no: str | None = None


@wire_event("transfer.letter_issued", 1)
class TransferLetterIssued(MemberFact):
    """An introduction letter (介绍信) for transferring membership to a host organisation."""

    letter_no: str
    receiving_organisation: str
    issued_on: date
    valid_until: date


@wire_event("transfer.letter_voided", 1)
class TransferLetterVoided(MemberFact):
    letter_no: str
    reason: str


@wire_event("assessment.concluded", 1)
class AssessmentConcluded(MemberFact):
    """The origin's final grade for a year (民主评议), final for both sides."""

    year: int = Field(ge=2000, le=2100)
    grade: Grade
    origin_grade: Grade | None = None
    host_grade: Grade | None = None


@wire_event("assessment.origin_evaluated", 1)
class OriginEvaluated(MemberFact):
    """The origin's own evaluation for a year, before the conclusion."""

    year: int = Field(ge=2000, le=2100)
    grade: Grade
    comments: str = ""


@wire_event("assistance.status_changed", 1)
class AssistanceStatusChanged(MemberFact):
    """What became of a hardship assistance application (approved, in notice, paid, rejected)."""

    application_id: str
    status: Literal["under_review", "approved", "in_public_notice", "paid", "rejected"]
    amount_fen: int = FEN
    reason: str = ""


# --- host → origin (h2o) ---------------------------------------------------------------------


@wire_event("member.reported", 1)
class MemberReported(MemberFact):
    """The member reported (报到) to the host with their certificate."""

    reported_on: date
    certificate_no: str


@wire_event("member.arrived_unannounced", 1)
class ArrivedUnannounced(WireEvent):
    """Someone reported at the host whom no departure announced; the origin is asked to confirm.

    `member_id` is empty: the host does not know the origin's id; the origin matches by ID number.
    """

    host_record_id: str
    origin_place: str = PLACE
    host_place: str = PLACE
    name: str
    resident_id: str
    phone: str
    reported_on: date
    certificate_no: str | None = None


@wire_event("member.reporting_overdue", 1)
class ReportingOverdue(MemberFact):
    due_on: date


@wire_event("member.branch_assigned", 1)
class BranchAssigned(MemberFact):
    branch_id: str
    branch_name: str


@wire_event("activity.attended", 1)
class ActivityAttended(MemberFact):
    """Attendance at an activity; counts as contact for the origin's lost-contact clock."""

    activity_id: str
    kind: Literal["monthly_activity_day", "study_session", "service", "other"]
    title: str
    held_on: date
    organiser: str


@wire_event("assessment.host_evaluated", 1)
class HostEvaluated(MemberFact):
    """The host's evaluation of the member for a year, with the evidence."""

    year: int = Field(ge=2000, le=2100)
    grade: Grade
    attendance_count: int = Field(ge=0)
    comments: str = ""


@wire_event("assistance.requested", 1)
class AssistanceRequested(MemberFact):
    """The host raises a hardship assistance application for the member."""

    request_id: str
    amount_fen: int = FEN
    reason: str
    requested_on: date


@wire_event("member.left_host", 1)
class MemberLeftHost(MemberFact):
    left_on: date
    reason: Literal["returned_home", "moved_on", "other"]
    destination: str = ""


@wire_event("transfer.receipt_returned", 1)
class TransferReceiptReturned(MemberFact):
    """The receiving organisation's receipt (回执): from now on the host owns the record."""

    letter_no: str
    received_on: date
    receiving_organisation: str
