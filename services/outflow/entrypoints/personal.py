"""Full personal data of one member (ID number, phone, addresses), for the origin's operator.

Lists and summaries only ever show masked values; this is the one route that reads the full
values, from the event-sourced record itself, and every read is in the audit trail before the
data leaves.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from services.outflow.domain.member import MobileMember
from shared.http.auth import allow
from shared.http.errors import NotFound
from shared.security.audit import record_personal_read
from shared.security.tokens import Principal, Role

router = APIRouter(prefix="/api/v1", tags=["personal data"])
Reader = Annotated[Principal, Depends(allow(Role.ORIGIN_OPERATOR))]


class PersonalData(BaseModel):
    member_id: UUID
    name: str
    resident_id: str = Field(examples=["371326199005010124"])
    phone: str = Field(examples=["13812345678"])
    household_address: str | None = None
    host_place: str | None = None
    employer: str | None = None
    host_address: str | None = None


@router.get(
    "/members/{member_id}/personal-data",
    response_model=PersonalData,
    summary="Full ID number, phone and addresses of one member (audited)",
)
def personal_data(member_id: UUID, request: Request, who: Reader) -> PersonalData:
    try:
        member = request.app.state.runtime.app.repository.get(member_id)
    except AggregateNotFoundError:
        member = None
    if not isinstance(member, MobileMember):
        raise NotFound("member.not_found", f"no member {member_id}")
    record_personal_read(request, who, member_id)
    return PersonalData(
        member_id=member_id,
        name=member.name,
        resident_id=member.resident_id,
        phone=member.phone,
        household_address=getattr(member, "household_address", None),
        host_place=getattr(member, "host_place", None),
        employer=getattr(member, "employer", None),
        host_address=getattr(member, "host_address", None),
    )
