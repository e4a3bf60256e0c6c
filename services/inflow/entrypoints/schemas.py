"""Request and response bodies of the inflow API (strict: unknown fields are rejected)."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReportArrival(Strict):
    certificate_no: str = Field(min_length=1, max_length=40, examples=["371326-000001"])
    reported_on: date = Field(examples=["2026-03-10"])


class HostedSummary(BaseModel):
    member_id: UUID
    origin_member_id: UUID
    origin_place: str
    name: str
    resident_id_masked: str
    phone_masked: str
    employer: str
    status: str
    certificate_no: str
    departed_on: date
    reported_on: date | None
    expected_since: datetime
    updated_at: datetime


class Page(BaseModel):
    items: list[HostedSummary]
    total: int
    offset: int
    limit: int
