"""Request and response bodies of the outflow API (strict: unknown fields are rejected)."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterMember(Strict):
    name: str = Field(min_length=1, max_length=100, examples=["张伟"])
    resident_id: str = Field(examples=["371326199005010124"], description="GB 11643 number")
    sex: str = Field(pattern="^(male|female)$", examples=["male"])
    phone: str = Field(examples=["13812345678"])
    origin_branch: str = Field(min_length=1, max_length=200, examples=["平邑镇东关村党支部"])
    household_address: str = Field(
        min_length=1, max_length=300, examples=["山东省平邑县平邑镇东关村"]
    )


class MemberRegistered(BaseModel):
    member_id: UUID


class RecordDeparture(Strict):
    host_place: str = Field(examples=["310115"], description="6-digit county-level code")
    employer: str = Field(min_length=1, max_length=200, examples=["上海某建设集团有限公司"])
    host_address: str = Field(min_length=1, max_length=300, examples=["上海市浦东新区张江路1号"])
    reason: str = Field(min_length=1, max_length=200, examples=["务工"])
    expected_months: int = Field(ge=1, le=240, examples=[4])
    departed_on: date = Field(examples=["2026-03-01"])


class DepartureResponse(BaseModel):
    member_id: UUID
    certificate_no: str = Field(examples=["371326-000001"])
    should_transfer: bool = Field(
        description="True when the expected stay means membership should be transferred (应转尽转)"
    )
    advice: str


class MemberSummary(BaseModel):
    member_id: UUID
    name: str
    resident_id_masked: str
    phone_masked: str
    sex: str
    origin_branch: str
    status: str
    host_place: str | None
    certificate_no: str | None
    departed_on: date | None
    reported_on: date | None
    updated_at: datetime


class Page(BaseModel):
    items: list[MemberSummary]
    total: int
    offset: int
    limit: int
