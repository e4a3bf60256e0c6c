"""Request bodies of the inflow API (strict: unknown fields are rejected, so no body can carry an
origin-owned fact such as a name or resident ID into a host route that does not take one)."""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from shared.contracts.events import Grade

TEXT = Field(min_length=1, max_length=200)
DAY = Field(examples=["2026-03-10"])


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReportArrival(Strict):
    certificate_no: str = Field(min_length=1, max_length=40, examples=["371326-000001"])
    reported_on: date = DAY
    locality: str = Field("", max_length=200, examples=["张江镇"])


class ReportUnannounced(Strict):
    origin_place: str = Field(examples=["371326"], description="origin county, GB/T 2260")
    name: str = Field(min_length=1, max_length=100, examples=["王伟"])
    resident_id: str = Field(examples=["371326199001011234"])
    phone: str = Field(examples=["13812345678"])
    reported_on: date = DAY
    employer: str = Field("", max_length=200, examples=["张江软件园"])
    locality: str = Field("", max_length=200, examples=["张江镇"])
    certificate_no: str | None = Field(None, max_length=40, examples=["371326-000007"])


class FlagOverdue(Strict):
    as_of: date | None = Field(None, description="defaults to today", examples=["2026-05-01"])


class FormBranch(Strict):
    name: str = Field(min_length=1, max_length=200, examples=["张江软件园流动党员党支部"])
    kind: Literal["mobile", "joint"] = "mobile"
    basis: Literal["employer", "locality", "mixed"] = Field(examples=["employer"])
    basis_value: str = Field("", max_length=200, examples=["张江软件园"])
    member_ids: list[UUID] = Field(default_factory=list, max_length=500)
    approved_by: str = Field(min_length=1, max_length=100, examples=["李明"])
    approving_committee: str = Field(
        min_length=1, max_length=200, examples=["中共上海市浦东新区委员会组织部"]
    )
    committee_place: str = Field(examples=["310115"], description="county-level or higher")
    approved_on: date = DAY


class AssignBranch(Strict):
    member_id: UUID


class RecordActivity(Strict):
    kind: Literal["monthly_activity_day", "study_session", "service", "other"]
    title: str = Field(min_length=1, max_length=200, examples=["三月主题党日"])
    held_on: date = DAY
    organiser: str = Field(min_length=1, max_length=200, examples=["张江软件园流动党员党支部"])
    attendee_ids: list[UUID] = Field(default_factory=list, max_length=500)


class RecordAttendance(Strict):
    member_ids: list[UUID] = Field(min_length=1, max_length=500)


class EvaluateMember(Strict):
    year: int = Field(ge=2000, le=2100, examples=[2026])
    grade: Grade = Field(examples=["competent"])
    comments: str = Field("", max_length=2000, examples=["积极参加活动"])


class RequestAssistance(Strict):
    amount_fen: StrictInt = Field(gt=0, description="integer fen (分)", examples=[200000])
    reason: str = Field(min_length=1, max_length=2000, examples=["工伤住院，家庭困难"])
    requested_on: date = DAY


class LeaveHost(Strict):
    left_on: date = DAY
    reason: Literal["returned_home", "moved_on", "other"]
    destination: str = Field("", max_length=200, examples=["返回平邑县"])


class ReturnReceipt(Strict):
    letter_no: str = Field(min_length=1, max_length=60, examples=["371326-L-000001"])
    received_on: date = DAY


class EditDetails(Strict):
    """Only for a member whose membership was transferred in (the host owns the record then)."""

    name: str | None = Field(None, min_length=1, max_length=100)
    phone: str | None = Field(None, examples=["13812345678"])
    employer: str | None = Field(None, max_length=200)
    host_address: str | None = Field(None, max_length=300)
