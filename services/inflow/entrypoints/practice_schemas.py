"""Request and response bodies of the pioneer card and the fixed days (docs/practices.md).

Every field is bounded where it enters (shared.validation.bounds), to what the read models and,
for attendance that goes on to the origin, the origin's wire contract (``ActivityAttended``:
title and organiser of 200 characters) accept.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from services.inflow.domain.pioneer_card import CARD_PATTERN
from services.inflow.entrypoints.schemas import Strict
from shared.validation.bounds import Count, Day, Text

CardNo = Annotated[str, Field(pattern=CARD_PATTERN, examples=["310115-XF-000001"])]
Org = Text(200)
ActivityKind = Literal["monthly_activity_day", "study_session", "service", "other"]
FixedDayKind = Literal["party_day", "service_day", "council"]


# --- requests -----------------------------------------------------------------------------------


class RegisterOrganisation(Strict):
    name: Org = Field(examples=["浦东新区张江镇社区党委"])
    kind: Literal[
        "community", "enterprise", "public_institution", "school", "mobile_branch", "other"
    ] = Field(examples=["community"])
    address: Text(200, min_len=0) = Field("", examples=["张江镇祖冲之路 100 号"])
    registered_on: Day | None = Field(None, description="defaults to today")


class WithdrawOrganisation(Strict):
    withdrawn_on: Day = Field(examples=["2026-12-01"])
    reason: Text(200) = Field(examples=["单位撤销"])


class IssueCard(Strict):
    issued_on: Day | None = Field(None, description="defaults to today")


class RevokeCard(Strict):
    reason: Literal["lost", "damaged", "left", "other"] = Field(examples=["lost"])
    revoked_on: Day | None = Field(None, description="defaults to today")


class ReissueCard(Strict):
    reason: Literal["lost", "damaged", "other"] = Field(examples=["lost"])
    reissued_on: Day | None = Field(None, description="defaults to today")


class CheckIn(Strict):
    """What a phone sends after scanning a member's card at an organisation's activity."""

    card_no: CardNo
    organisation_id: UUID
    held_on: Day = Field(examples=["2026-11-25"])
    title: Org = Field(examples=["社区环境整治志愿服务"])
    kind: ActivityKind = "other"


class SetFixedDay(Strict):
    day_of_month: Annotated[int, Field(ge=1, le=31)] | None = Field(
        examples=[25], description="1-31 (a short month meets on its last day); null stops it"
    )
    since: Day | None = Field(None, description="from this day on; defaults to today")


class RecordFixedDay(Strict):
    member_ids: list[UUID] = Field(max_length=500, description="who came (members of the branch)")
    title: Org | None = Field(None, description="defaults to the kind and the date")


# --- responses ----------------------------------------------------------------------------------


class OrganisationView(BaseModel):
    organisation_id: UUID
    name: str
    kind: str
    address: str
    registered_on: date
    withdrawn_on: date | None


class CardView(BaseModel):
    card_no: str
    member_id: UUID
    name: str = ""
    state: Literal["valid", "revoked"]
    issued_on: date
    replaces: str | None = None
    revoked_on: date | None = None
    revocation_reason: str = ""
    replaced_by: str | None = None


class CheckedInView(BaseModel):
    activity_id: UUID
    member_id: UUID
    card_no: str
    organisation: str
    already_recorded: bool


class FixedDayView(BaseModel):
    kind: FixedDayKind
    label: str
    on: date
    recorded: bool


class FixedDaySetting(BaseModel):
    kind: FixedDayKind
    label: str
    day_of_month: int | None
    since: date


class FixedDaysView(BaseModel):
    branch_id: UUID
    branch_name: str
    settings: list[FixedDaySetting]
    upcoming: list[FixedDayView]


class FixedDayHeld(BaseModel):
    activity_id: UUID
    kind: FixedDayKind
    on: date
    expected: int
    attended: int


class MissedView(BaseModel):
    member_id: UUID
    name: str
    missed_in_a_row: Annotated[int, Count()]
    missed: list[date]
    last_attended_on: date | None


class MissedList(BaseModel):
    branch_id: UUID
    at_least: int
    members: list[MissedView]


class UpcomingAcross(BaseModel):
    branch_id: UUID
    branch_name: str
    kind: FixedDayKind
    label: str
    on: date


class ToDo(BaseModel):
    branch_id: UUID
    branch_name: str
    as_of: date
    attendance_due: list[FixedDayView]  # fixed days passed with no attendance recorded
    upcoming: list[FixedDayView]
    missed_in_a_row: MissedList
