"""Response bodies of the inflow API, read from the read models (masked personal data only)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Generic, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel

from shared.security.masking import name_for
from shared.security.tokens import Principal

T = TypeVar("T")
V = TypeVar("V")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    offset: int
    limit: int


class Created(BaseModel):
    id: UUID


class MemberView(BaseModel):
    member_id: UUID
    origin_member_id: UUID | None
    origin_place: str
    origin_county: str | None
    name: str
    resident_id_masked: str
    phone_masked: str
    employer: str
    locality: str
    status: str
    arrival: str
    confirmed: bool
    certificate_no: str | None
    departed_on: date | None
    reported_on: date | None
    overdue_flagged_for: date | None
    branch_id: UUID | None
    branch_name: str
    left_on: date | None
    origin_status: str | None
    letter_no: str | None
    letter_valid_until: date | None
    expected_since: datetime
    updated_at: datetime


class ExpectedArrival(BaseModel):
    member_id: UUID
    origin_member_id: UUID
    origin_place: str
    origin_county: str | None
    name: str
    certificate_no: str | None
    departed_on: date
    expected_since: datetime
    due_on: date
    overdue: bool
    overdue_flagged_for: date | None


class Flagged(BaseModel):
    as_of: date
    flagged: list[UUID]


class MemberBrief(BaseModel):
    member_id: UUID
    name: str
    origin_place: str
    employer: str
    locality: str


class BranchView(BaseModel):
    branch_id: UUID
    name: str
    kind: str
    basis: str
    basis_value: str
    approved_by: str
    approving_committee: str
    committee_place: str
    approved_on: date
    member_count: int
    oversized: bool
    formed_at: datetime
    # Branch changes (docs/flows.md, "Branches"): merged or dissolved branches stay listed.
    state: Literal["active", "merged", "dissolved"] = "active"
    below_minimum: bool = False  # a mobile branch a member left by departing the host
    over_norm_reason: str | None = None  # why it has more members than the norm (50)
    merged_into: UUID | None = None
    ended_on: date | None = None
    end_reason: str | None = None


class BranchDetail(BranchView):
    members: list[MemberBrief]


class Proposal(BaseModel):
    basis: str
    value: str
    member_count: int
    members: list[MemberBrief]


class Proposals(BaseModel):
    minimum: int
    proposals: list[Proposal]
    joint_candidates: list[MemberBrief]


class ActivityView(BaseModel):
    activity_id: UUID
    kind: str
    title: str
    held_on: date
    organiser: str
    attendee_count: int
    recorded_at: datetime


class AttendanceItem(BaseModel):
    activity_id: UUID
    kind: str
    title: str
    held_on: date
    organiser: str


class AttendanceView(BaseModel):
    member_id: UUID
    year: int
    total: int
    by_kind: dict[str, int]
    items: list[AttendanceItem]


class EvaluationView(BaseModel):
    evaluation_id: UUID
    member_id: UUID
    year: int
    origin_place: str
    host_grade: str | None
    comments: str
    attendance_count: int | None
    attendance_by_kind: dict[str, int] | None
    evaluated_by: str | None
    origin_grade: str | None
    concluded_grade: str | None
    agreed_grade: str | None = None  # the joint review's, when the two evaluations disagreed
    reviewed_on: date | None = None
    updated_at: datetime


class AssistanceView(BaseModel):
    request_id: UUID
    member_id: UUID
    origin_place: str
    amount_fen: int
    reason: str
    requested_on: date
    status: str
    requested_at: datetime
    updated_at: datetime


PERSON_VIEWS = (MemberView, ExpectedArrival, MemberBrief)


def redact_for(who: Principal, value: V) -> V:
    """Auditors see no personal data: a person's name is masked wherever it appears (branch
    names and the like are not people and stay)."""
    if who.sees_personal_data or not isinstance(value, BaseModel):
        return value
    updates: dict[str, Any] = {}
    for field in type(value).model_fields:
        item = getattr(value, field)
        if isinstance(item, list):
            updates[field] = [redact_for(who, x) for x in item]
        elif isinstance(item, BaseModel):
            updates[field] = redact_for(who, item)
    if isinstance(value, PERSON_VIEWS):
        updates["name"] = name_for(who, value.name)
    return value.model_copy(update=updates)
