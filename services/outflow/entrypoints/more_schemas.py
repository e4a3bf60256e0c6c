"""Bodies for transfers, assessments and the assistance fund (strict, with examples)."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import BaseModel, Field, StrictInt

from services.outflow.entrypoints.schemas import GRADES, Strict


class IssueLetter(Strict):
    receiving_organisation: str = Field(
        min_length=1, max_length=200, examples=["浦东新区张江镇流动党员党支部"]
    )
    issued_on: date = Field(examples=["2026-06-01"])
    validity_days: int | None = Field(
        None, ge=1, le=366, description="default: the configured validity (3 months)"
    )


class VoidLetter(Strict):
    reason: str = Field(min_length=1, max_length=300, examples=["member changed plans"])


class ReissueLetter(Strict):
    issued_on: date = Field(examples=["2026-09-05"])
    validity_days: int | None = Field(None, ge=1, le=366)


class RecordReceipt(Strict):
    received_on: date = Field(examples=["2026-06-20"])
    receiving_organisation: str = Field(min_length=1, max_length=200, examples=["张江镇党委"])


class LetterResponse(BaseModel):
    member_id: UUID
    letter_no: str = Field(examples=["371326-000001-JS01"])
    state: str = Field(examples=["issued"], description="issued, received, expired, void, reissued")
    issued_on: date
    valid_until: date
    receipt_due: date
    receipt_overdue: bool
    received_on: date | None = None


class OriginEvaluation(Strict):
    grade: str = Field(json_schema_extra={"enum": GRADES}, examples=["competent"])
    comments: str = Field("", max_length=1000, examples=["attended every activity day"])


class Conclude(Strict):
    grade: str = Field(json_schema_extra={"enum": GRADES}, examples=["competent"])
    resolution: str = Field(
        "",
        max_length=1000,
        examples=["joint review with 310115 on 2027-01-10: competent"],
        description="required when the sides disagree (joint review)",
    )


class AssessmentView(BaseModel):
    member_id: UUID
    year: int
    state: str = Field(
        examples=["joint_review"],
        description="open, origin_evaluated, host_evaluated, ready, joint_review, "
        "awaiting_confirmation, concluded",
    )
    origin_grade: str | None
    host_grade: str | None
    host_place: str | None
    attendance_count: int | None
    joint_review: bool
    proposed_grade: str | None
    final_grade: str | None
    resolution: str


class Contribution(Strict):
    amount_fen: StrictInt = Field(examples=[500000], description="integer fen (分), positive")
    contributor: str = Field(min_length=1, max_length=200, examples=["县委组织部专项拨款"])
    received_on: date = Field(examples=["2026-03-01"])


class SubmitApplication(Strict):
    member_id: UUID
    amount_fen: StrictInt = Field(examples=[200000])
    reason: str = Field(min_length=1, max_length=500, examples=["因病住院，家庭困难"])
    requested_on: date = Field(examples=["2026-03-02"])


class StartReview(Strict):
    note: str = Field("", max_length=500, examples=["documents complete"])


class Approve(Strict):
    approved_on: date = Field(examples=["2026-03-03"])


class PublishNotice(Strict):
    notice_from: date = Field(examples=["2026-03-04"])


class Disburse(Strict):
    paid_on: date = Field(examples=["2026-03-12"])


class Reject(Strict):
    reason: str = Field(min_length=1, max_length=500, examples=["objection upheld in notice"])


class FundView(BaseModel):
    county: str
    balance_fen: int
    reserved_fen: int
    available_fen: int
    contributed_fen: int
    paid_fen: int


class ApplicationView(BaseModel):
    application_id: UUID
    member_id: UUID
    source: str = Field(examples=["origin", "host:310115"])
    host_place: str | None
    amount_fen: int
    reason: str
    status: str = Field(examples=["in_public_notice"])
    requested_on: date
    notice_from: date | None
    notice_until: date | None
    paid_on: date | None
    rejection_reason: str | None


class ApplicationPage(BaseModel):
    items: list[ApplicationView]
    total: int
    offset: int
    limit: int


class LedgerEntry(BaseModel):
    entry_no: int
    kind: str = Field(examples=["contribution", "reservation", "release", "disbursement"])
    amount_fen: int
    application_id: UUID | None
    contributor: str | None
    entry_date: date | None
    balance_after_fen: int
    reserved_after_fen: int
    recorded_by: str


class ReadModelStatus(BaseModel):
    projector: str
    position: int
    head: int
    handled_since_start: int
