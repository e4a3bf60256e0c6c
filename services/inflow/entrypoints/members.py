"""Who is here: members expected, present, by branch, origin county, employer or locality."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Query

from services.inflow.adapters import queries
from services.inflow.entrypoints.deps import Limit, Offset, Reader, Runtime, read
from services.inflow.entrypoints.responses import MemberView, Page, redact_for
from shared.http.errors import NotFound
from shared.validation.bounds import PlaceCode, Text

router = APIRouter(prefix="/api/v1", tags=["members"])

Status = Literal["expected", "reported", "received", "left", "present"]


@router.get("/members", response_model=Page[MemberView], summary="Members expected or hosted here")
def list_members(
    rt: Runtime,
    who: Reader,
    status: Status | None = Query(None, description="present = reported or received"),
    origin_place: PlaceCode | None = Query(None),
    employer: Text(200) | None = Query(None),
    locality: Text(200) | None = Query(None),
    branch_id: UUID | None = None,
    confirmed: bool | None = Query(None, description="false: awaiting the origin's confirmation"),
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[MemberView]:
    rows, total = read(
        rt,
        queries.list_members,
        status=status,
        origin_place=origin_place,
        employer=employer,
        locality=locality,
        branch_id=str(branch_id) if branch_id else None,
        confirmed=confirmed,
        offset=offset,
        limit=limit,
    )
    items = [MemberView.model_validate(r) for r in rows]
    return redact_for(who, Page[MemberView](items=items, total=total, offset=offset, limit=limit))


@router.get("/members/{member_id}", response_model=MemberView, summary="One member (masked)")
def get_member(member_id: UUID, rt: Runtime, who: Reader) -> MemberView:
    row = read(rt, queries.member, str(member_id))
    if row is None:
        raise NotFound("member.not_found", f"no member {member_id}")
    return redact_for(who, MemberView.model_validate(row))
