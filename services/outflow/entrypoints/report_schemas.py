"""Response bodies of the leadership report (what the dashboard's charts read).

Shares are fractions to four places (0.8333), `null` when no one is counted; money is integer fen.
Names in lists follow the reader's role (masked for auditors); ID numbers and phones never
appear here.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class ReportPeriod(BaseModel):
    from_: date = Field(alias="from", serialization_alias="from")
    to: date
    as_of: date = Field(description="the day states are measured on: `to`, or today if earlier")


class HostPlaceCount(BaseModel):
    host_place: str = Field(examples=["310115"])
    host_place_name: str | None = Field(examples=["浦东新区"])
    mobile: int
    departed: int
    lost: int
    suspended: int
    departed_in_period: int


class MemberLine(BaseModel):
    member_id: str
    name: str
    host_place: str | None
    host_branch: str | None
    departed_on: date | None
    last_contact_on: date | None


class OverdueLine(MemberLine):
    overdue_since: date


class LostLine(MemberLine):
    status: str = Field(description="lost, suspended, or candidate (no contact for too long)")
    lost_on: date | None


class Reporting(BaseModel):
    """报到率: mobile members who have reported to their host by the period's end."""

    mobile: int
    reported: int
    rate: float | None
    overdue: list[OverdueLine]


class QuarterVerification(BaseModel):
    quarter: str = Field(examples=["2026Q2"])
    due: int = Field(description="mobile members away by the quarter's end")
    verified: int = Field(description="of them, checked in the quarter")
    rate: float | None


class Contact(BaseModel):
    mobile: int
    contacted: int = Field(description="mobile members with any contact dated in the period")
    coverage: float | None
    lost_contact: list[LostLine]


class BranchActivity(BaseModel):
    host_place: str
    host_branch: str | None = Field(description="null: not yet assigned to a branch by the host")
    members: int
    attendances: int = Field(description="activities attended in the period (all members)")
    attendees: int = Field(description="members who attended at least one")
    rate: float | None


class YearEvaluations(BaseModel):
    year: int
    total: int
    by_state: dict[str, int] = Field(examples=[{"concluded": 3, "open": 1}])
    by_grade: dict[str, int] = Field(
        description="final grade; `none` until concluded", examples=[{"competent": 3, "none": 1}]
    )


class FundFlows(BaseModel):
    opening_balance_fen: int
    contributed_fen: int
    contributions: int
    disbursed_fen: int
    disbursements: int
    closing_balance_fen: int = Field(description="opening + contributed - disbursed")
    balance_now_fen: int
    reserved_now_fen: int


class LeadershipReport(BaseModel):
    period: ReportPeriod
    mobile: int = Field(
        description="members away today (departed, lost, suspended) who had "
        "departed by the period's end"
    )
    members_by_host: list[HostPlaceCount]
    reporting: Reporting
    verification: list[QuarterVerification]
    contact: Contact
    activity: list[BranchActivity]
    evaluations: list[YearEvaluations]
    fund: FundFlows
