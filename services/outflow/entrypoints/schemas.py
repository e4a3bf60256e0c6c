"""Request and response bodies of the outflow API (strict: unknown fields are rejected).

Responses never carry a full resident ID number, phone number or address: masked values only
(a separate, audited endpoint serves personal data to those entitled).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from services.outflow.domain.status import ContactKind, LostReason
from shared.validation.bounds import Count, Day, Name, Text

# Every body field is bounded where it enters (shared.validation.bounds): lengths are those of the
# read-model columns; identifiers the domain validates precisely (resident ID, phone, place) get a
# loose bound here so that the domain's own codes (resident_id.check_character...) still answer.
Org = Text(200)
Address = Text(300)
Note = Text(500, min_len=0, multiline=True)
Loose = Text(40)

GRADES = ["excellent", "competent", "basically_competent", "not_competent"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterMember(Strict):
    name: Name = Field(examples=["张伟"])
    resident_id: Loose = Field(examples=["371326199005010124"], description="GB 11643 number")
    sex: str = Field(pattern="^(male|female)$", examples=["male"])
    phone: Loose = Field(examples=["13812345678"])
    origin_branch: Org = Field(examples=["平邑镇东关村党支部"])
    household_address: Address = Field(examples=["山东省平邑县平邑镇东关村"])


class MemberRegistered(BaseModel):
    member_id: UUID


class CorrectDetails(Strict):
    """Only the fields given are corrected; the resident ID number never changes."""

    name: Name | None = Field(None, examples=["张伟"])
    sex: str | None = Field(None, pattern="^(male|female)$")
    phone: Loose | None = Field(None, examples=["13912345678"])
    origin_branch: Org | None = None
    household_address: Address | None = None
    employer: Org | None = Field(None, examples=["张江软件园"])
    host_address: Address | None = None


class DetailsCorrected(BaseModel):
    member_id: UUID
    corrected: list[str] = Field(examples=[["phone", "employer"]])


class RecordDeparture(Strict):
    host_place: Loose = Field(examples=["310115"], description="6-digit county-level code")
    employer: Org = Field(examples=["上海某建设集团有限公司"])
    host_address: Address = Field(examples=["上海市浦东新区张江路1号"])
    reason: Text(200) = Field(examples=["务工"])
    expected_months: Count(240, minimum=1) = Field(examples=[4])
    departed_on: Day = Field(examples=["2026-03-01"])


class RecordMove(Strict):
    """A move from the member's host place to another (异地流动), without a return home."""

    to_host_place: Loose = Field(examples=["310112"], description="6-digit county-level code")
    moved_on: Day = Field(examples=["2026-09-01"])
    certificate: Literal["endorse", "new"] = Field(
        examples=["endorse"],
        description="endorse the activity certificate for the new place (签注, same number) or "
        "issue a new one (a new number)",
    )
    employer: Org = Field(examples=["闵行区某电子有限公司"])
    host_address: Address = Field(examples=["上海市闵行区莘庄镇1号"])


class MoveResponse(BaseModel):
    member_id: UUID
    host_place: str = Field(examples=["310112"])
    certificate_no: str = Field(examples=["371326-000001"])
    advice: str


class DepartureResponse(BaseModel):
    member_id: UUID
    certificate_no: str = Field(examples=["371326-000001"])
    should_transfer: bool = Field(
        description="True when the expected stay means membership should be transferred (应转尽转)"
    )
    advice: str


class RecordContact(Strict):
    kind: Loose = Field(
        json_schema_extra={"enum": list(ContactKind)},
        examples=["dues"],
        description="activity, report, verification, dues or other",
    )
    on: Day = Field(examples=["2026-05-10"])
    note: Note = Field("", examples=["paid Q2 dues by transfer"])


class RecordVerification(Strict):
    """The quarterly check (查档案、查地址、查联系方式)."""

    checked_on: Day = Field(examples=["2026-06-20"])
    file_ok: bool = Field(examples=[True])
    address_ok: bool = Field(examples=[True])
    contact_ok: bool = Field(examples=[True], description="the member was reached")
    note: Note = Field("", examples=["reached by phone; address unchanged"])


class MarkLost(Strict):
    reason_code: Loose = Field(
        json_schema_extra={"enum": list(LostReason)}, examples=["went_abroad"]
    )
    on: Day = Field(examples=["2026-10-01"])
    note: Note = Field("", examples=["searched with the host; no trace"])


class Decision(Strict):
    on: Day = Field(examples=["2026-10-15"])
    decision: Text(200) = Field(examples=["县委组织部〔2026〕12号"])


class Restore(Strict):
    on: Day = Field(examples=["2026-10-20"])
    note: Note = Field("", examples=["called the branch secretary"])


class RecordReturn(Strict):
    returned_on: Day = Field(examples=["2026-09-01"])


class MemberSummary(BaseModel):
    member_id: UUID
    name: str
    resident_id_masked: str = Field(examples=["3713**********0124"])
    phone_masked: str = Field(examples=["138****5678"])
    sex: str
    origin_branch: str
    status: str = Field(examples=["departed"])
    host_place: str | None = Field(examples=["310115"])
    certificate_no: str | None
    employer: str | None = None
    departed_on: date | None
    expected_months: int | None = None
    reported_on: date | None
    returned_on: date | None = None
    last_contact_on: date | None = None
    last_verified_on: date | None = None
    next_check_due: date | None = None
    lost_reason: str | None = None
    lost_on: date | None = None
    suspended_on: date | None = None
    host_branch: str | None = None
    reporting_overdue_since: date | None = None
    left_host_on: date | None = None
    letter_no: str | None = None
    letter_state: str | None = None
    letter_valid_until: date | None = None
    closed: bool = False
    updated_at: datetime
    version: int


class Page(BaseModel):
    items: list[MemberSummary]
    total: int
    offset: int
    limit: int


class TimelineEntry(BaseModel):
    stream: UUID = Field(description="the aggregate: the member, an assessment or application")
    version: int
    type: str = Field(examples=["Departed"])
    at: datetime
    by: str = Field(examples=["operator-7", "host:310115"])
    data: dict[str, Any]


class MemberAsOf(BaseModel):
    """The record as it stood at the end of a past day (masked)."""

    member_id: UUID
    as_of: date | datetime
    version: int
    recorded_at: datetime
    name: str
    resident_id_masked: str
    phone_masked: str
    status: str
    host_place: str | None
    certificate_no: str | None
    employer: str | None
    departed_on: date | None
    last_contact_on: date | None
    lost_reason: str | None
    letters: list[dict[str, Any]]


class ArrivalView(BaseModel):
    arrival_id: UUID
    host_place: str
    host_record_id: str
    name: str
    resident_id_masked: str
    phone_masked: str
    reported_on: date
    certificate_no: str | None
    member_id: UUID | None
    mismatches: list[str] = Field(examples=[["member.not_departed", "phone.differs"]])
    confirmed: bool


class ArrivalConfirmedResponse(BaseModel):
    arrival_id: UUID
    member_id: UUID
