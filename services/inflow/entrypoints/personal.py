"""Full personal data of one hosted member (ID number, phone, address), for the host's operator.

Only while the member is hosted here: once they have left, the host keeps the masked record
only. Every read is in the audit trail before the data leaves.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from services.inflow.domain.member import HostedMember, hosted_member_id
from shared.http.auth import allow
from shared.http.errors import ApiError, NotFound
from shared.security.audit import record_personal_read
from shared.security.tokens import Principal, Role

router = APIRouter(prefix="/api/v1", tags=["personal data"])
Reader = Annotated[Principal, Depends(allow(Role.HOST_OPERATOR))]
NOT_HOSTED = frozenset({"left"})


class PersonalData(BaseModel):
    member_id: UUID
    origin_member_id: UUID
    origin_place: str
    name: str
    resident_id: str = Field(examples=["371326199005010124"])
    phone: str = Field(examples=["13812345678"])
    employer: str | None = None
    host_address: str | None = None


def _hosted(request: Request, member_id: UUID) -> HostedMember | None:
    repository = request.app.state.runtime.app.repository
    place = request.app.state.place
    # The host's own record id, or the origin's member id (as the list shows both).
    for candidate in (member_id, hosted_member_id(place, str(member_id))):
        try:
            member = repository.get(candidate)
        except AggregateNotFoundError:
            continue
        if isinstance(member, HostedMember):
            return member
    return None


@router.get(
    "/members/{member_id}/personal-data",
    response_model=PersonalData,
    summary="Full ID number, phone and address of a member hosted here (audited)",
)
def personal_data(member_id: UUID, request: Request, who: Reader) -> PersonalData:
    member = _hosted(request, member_id)
    if member is None:
        raise NotFound("member.not_found", f"no member {member_id}")
    if str(getattr(member, "status", "")) in NOT_HOSTED:
        raise ApiError("personal_data.not_hosted", "the member is no longer hosted here", 403)
    record_personal_read(request, who, member.id)
    return PersonalData(
        member_id=member.id,
        origin_member_id=UUID(str(member.origin_member_id)),
        origin_place=member.origin_place,
        name=member.name,
        resident_id=member.resident_id,
        phone=member.phone,
        employer=getattr(member, "employer", None),
        host_address=getattr(member, "host_address", None),
    )
