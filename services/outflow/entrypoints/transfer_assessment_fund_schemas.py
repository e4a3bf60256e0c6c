"""Bodies for transfers, assessments and the assistance fund (strict, with examples)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, Field, StrictInt, model_validator

from services.outflow.entrypoints.schemas import GRADES, Note, Org, Strict
from shared.validation.bounds import MAX_EXACT_FEN, Day, Text
from shared.validation.grades import grade_code, grade_label

# Bounded so that no sum or column can overflow; the sign and the configurable ceiling per
# transaction are rules of the domain with their own codes (amount.not_positive,
# amount.above_ceiling).
Fen = Annotated[StrictInt, Field(ge=-MAX_EXACT_FEN, le=MAX_EXACT_FEN)]
LongText = Text(1000, min_len=0, multiline=True)
# The notes become the conclusion's resolution ("joint review <date>: <notes>", 1,000 at most).
ReviewNotes = Text(900, min_len=0, multiline=True)
Reason = Text(500, multiline=True)
# A grade as users write it: its code or its Chinese label (优秀/合格/基本合格/不合格).
GradeText = Annotated[Text(30), BeforeValidator(grade_code)]


class IssueLetter(Strict):
    receiving_organisation: Org = Field(examples=["浦东新区张江镇流动党员党支部"])
    issued_on: Day = Field(examples=["2026-06-01"])
    validity_days: int | None = Field(
        None, ge=1, le=366, description="default: the configured validity (3 months)"
    )


class VoidLetter(Strict):
    reason: Text(300, multiline=True) = Field(examples=["member changed plans"])


class ReissueLetter(Strict):
    issued_on: Day = Field(examples=["2026-09-05"])
    validity_days: int | None = Field(None, ge=1, le=366)


class RecordReceipt(Strict):
    received_on: Day = Field(examples=["2026-06-20"])
    receiving_organisation: Org = Field(examples=["张江镇党委"])


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
    grade: GradeText = Field(json_schema_extra={"enum": GRADES}, examples=["competent", "合格"])
    comments: LongText = Field("", examples=["attended every activity day"])


class Conclude(Strict):
    grade: GradeText = Field(json_schema_extra={"enum": GRADES}, examples=["competent", "合格"])
    resolution: LongText = Field(
        "",
        examples=["joint review with 310115 on 2027-01-10: competent"],
        description="required when the sides disagree (joint review)",
    )


class JointReview(Strict):
    """The outcome of the joint review (联合评议) held by the origin and the host."""

    agreed_grade: GradeText = Field(
        json_schema_extra={"enum": GRADES}, examples=["competent", "合格"]
    )
    notes: ReviewNotes = Field(
        "", examples=["reviewed with 310115 by video: attendance records complete"]
    )
    reviewed_on: Day | None = Field(None, description="the day of the review; today if omitted")


class AssessmentView(BaseModel):
    member_id: UUID
    year: int
    state: str = Field(
        examples=["joint_review"],
        description="open, origin_evaluated, host_evaluated, ready, joint_review, "
        "jointly_reviewed, awaiting_confirmation, concluded",
    )
    origin_grade: str | None
    host_grade: str | None
    host_place: str | None
    attendance_count: int | None
    joint_review: bool
    proposed_grade: str | None
    final_grade: str | None
    resolution: str
    review: dict[str, Any] | None = Field(
        None,
        description="the joint review's outcome: agreed_grade, notes, reviewed_on",
        examples=[{"agreed_grade": "competent", "notes": "", "reviewed_on": "2027-01-10"}],
    )
    labels: dict[str, str | None] = Field(
        default_factory=dict,
        description="the grades in words (优秀/合格/基本合格/不合格)",
        examples=[{"origin": "合格", "host": "合格", "proposed": "合格", "final": None}],
    )

    @model_validator(mode="after")
    def _with_labels(self) -> AssessmentView:
        self.labels = {
            "origin": grade_label(self.origin_grade),
            "host": grade_label(self.host_grade),
            "proposed": grade_label(self.proposed_grade),
            "final": grade_label(self.final_grade),
        }
        return self


class Contribution(Strict):
    amount_fen: Fen = Field(examples=[500000], description="integer fen (分), positive")
    contributor: Org = Field(examples=["县委组织部专项拨款"])
    received_on: Day = Field(examples=["2026-03-01"])


class SubmitApplication(Strict):
    member_id: UUID
    amount_fen: Fen = Field(examples=[200000], description="integer fen (分), positive")
    reason: Reason = Field(examples=["因病住院，家庭困难"])
    requested_on: Day = Field(examples=["2026-03-02"])


class StartReview(Strict):
    note: Note = Field("", examples=["documents complete"])


class Approve(Strict):
    approved_on: Day = Field(examples=["2026-03-03"])


class PublishNotice(Strict):
    notice_from: Day = Field(examples=["2026-03-04"])


class Disburse(Strict):
    paid_on: Day = Field(examples=["2026-03-12"])


class Reject(Strict):
    reason: Reason = Field(examples=["objection upheld in notice"])


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
