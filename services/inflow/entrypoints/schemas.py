"""Request bodies of the inflow API (strict: unknown fields are rejected, so no body can carry an
origin-owned fact such as a name or resident ID into a host route that does not take one)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from shared.contracts.events import CertificateNo, Grade, LetterNo
from shared.validation.bounds import AmountFen, Day, Name, Text, Year, not_before_birth
from shared.validation.grades import grade_code

# Every body field is bounded where it enters (shared.validation.bounds), to what the host's read
# models and, for facts that go on to the origin, the origin's wire contract accept: a value the
# host took must never be dead-lettered at the origin. The domain validates resident IDs, phones
# and places with its own codes, so those get a loose bound here.
DAY = Field(examples=["2026-03-10"])
Org = Text(200)
Loose = Text(40)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReportArrival(Strict):
    certificate_no: Text(40) = Field(examples=["371326-000001"])
    reported_on: Day = DAY
    locality: Text(200, min_len=0) = Field("", examples=["张江镇"])


class ReportUnannounced(Strict):
    origin_place: Loose = Field(examples=["371326"], description="origin county, GB/T 2260")
    name: Name = Field(examples=["王伟"])
    resident_id: Loose = Field(examples=["371326199001011234"])
    phone: Loose = Field(examples=["13812345678"])
    reported_on: Day = DAY
    employer: Text(200, min_len=0) = Field("", examples=["张江软件园"])
    locality: Text(200, min_len=0) = Field("", examples=["张江镇"])
    certificate_no: CertificateNo | None = Field(None, examples=["371326-000007"])

    @model_validator(mode="after")
    def _not_before_birth(self) -> ReportUnannounced:
        not_before_birth(self.reported_on, self.resident_id, "reported_on")
        return self


class FlagOverdue(Strict):
    as_of: Day | None = Field(None, description="defaults to today", examples=["2026-05-01"])


class FormBranch(Strict):
    name: Org = Field(examples=["张江软件园流动党员党支部"])
    kind: Literal["mobile", "joint"] = "mobile"
    basis: Literal["employer", "locality", "mixed"] = Field(examples=["employer"])
    basis_value: Text(200, min_len=0) = Field("", examples=["张江软件园"])
    member_ids: list[UUID] = Field(default_factory=list, max_length=500)
    approved_by: Name = Field(examples=["李明"])
    approving_committee: Org = Field(examples=["中共上海市浦东新区委员会组织部"])
    committee_place: Loose = Field(examples=["310115"], description="county-level or higher")
    approved_on: Day = DAY
    over_norm_reason: Text(200) | None = Field(
        None, description="required when the branch would pass the norm (50 members)"
    )


# Branch changes (docs/flows.md, "Branches"): each says why; the date defaults to today.
OverNorm = Field(None, description="required when the receiving branch passes the norm (50)")
Why = Field(examples=["工作单位变动，转入川沙流动党员党支部"])


class AssignBranch(Strict):
    member_id: UUID
    over_norm_reason: Text(200) | None = OverNorm


class MoveBranchMember(Strict):
    to_branch_id: UUID
    reason: Text(200) = Why
    moved_on: Day | None = None
    over_norm_reason: Text(200) | None = OverNorm


class RemoveBranchMember(Strict):
    reason: Text(200) = Why
    removed_on: Day | None = None


class MergeBranch(Strict):
    into_branch_id: UUID
    reason: Text(200) = Field(examples=["两个支部党员同在张江园区，合并便于组织活动"])
    merged_on: Day | None = None
    over_norm_reason: Text(200) | None = OverNorm


class DissolveBranch(Strict):
    reason: Text(200) = Field(examples=["企业搬迁，党员分散"])
    dissolved_on: Day | None = None


class RecordActivity(Strict):
    kind: Literal["monthly_activity_day", "study_session", "service", "other"]
    title: Org = Field(examples=["三月主题党日"])
    held_on: Day = DAY
    organiser: Org = Field(examples=["张江软件园流动党员党支部"])
    attendee_ids: list[UUID] = Field(default_factory=list, max_length=500)


class RecordAttendance(Strict):
    member_ids: list[UUID] = Field(min_length=1, max_length=500)


class EvaluateMember(Strict):
    year: Year = Field(examples=[2026])
    grade: Annotated[Grade, BeforeValidator(grade_code)] = Field(
        examples=["competent", "合格"], description="the code or its Chinese label"
    )
    comments: Text(2000, min_len=0, multiline=True) = Field("", examples=["积极参加活动"])


class RequestAssistance(Strict):
    amount_fen: AmountFen = Field(examples=[200000])
    # 500: the origin's record of the application holds 500 characters.
    reason: Text(500, multiline=True) = Field(examples=["工伤住院，家庭困难"])
    requested_on: Day = DAY


class LeaveHost(Strict):
    left_on: Day = DAY
    reason: Literal["returned_home", "moved_on", "other"]
    destination: Text(200, min_len=0) = Field("", examples=["返回平邑县"])


class ReturnReceipt(Strict):
    letter_no: LetterNo = Field(examples=["371326-L-000001"])
    received_on: Day = DAY


class EditDetails(Strict):
    """Only for a member whose membership was transferred in (the host owns the record then)."""

    name: Name | None = None
    phone: Loose | None = Field(None, examples=["13812345678"])
    employer: Text(200, min_len=0) | None = None
    host_address: Text(300, min_len=0) | None = None
