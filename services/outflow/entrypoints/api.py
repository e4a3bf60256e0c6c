"""HTTP routes of the origin county's service. Thin: parse, call the application, translate."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request

from services.outflow.adapters.projection import members
from services.outflow.application import MemberAlreadyRegistered, MemberNotFound
from services.outflow.domain.errors import DomainError
from services.outflow.entrypoints.schemas import (
    DepartureResponse,
    MemberRegistered,
    MemberSummary,
    Page,
    RecordDeparture,
    RegisterMember,
)
from shared.http.auth import allow
from shared.http.errors import ApiError, Conflict, NotFound
from shared.runtime import PlaceRuntime
from shared.security.tokens import Principal, Role

router = APIRouter(prefix="/api/v1", tags=["members"])

Writer = Annotated[Principal, Depends(allow(Role.ORIGIN_OPERATOR))]
Reader = Annotated[Principal, Depends(allow(Role.ORIGIN_OPERATOR, Role.AUDITOR))]


def runtime(request: Request) -> PlaceRuntime:
    return request.app.state.runtime


Runtime = Annotated[PlaceRuntime, Depends(runtime)]


def domain_error(exc: DomainError) -> ApiError:
    return ApiError(exc.code, exc.message, 409 if exc.code.endswith("wrong_state") else 422)


@router.post(
    "/members",
    status_code=201,
    response_model=MemberRegistered,
    summary="Register a member in the information base (流动党员信息库)",
)
def register_member(body: RegisterMember, rt: Runtime, who: Writer) -> MemberRegistered:
    try:
        member_id = rt.app.register_member(**body.model_dump(), recorded_by=who.subject)
    except MemberAlreadyRegistered as exc:
        raise Conflict("member.already_registered", f"member {exc} is already registered") from None
    rt.after_write()
    return MemberRegistered(member_id=member_id)


@router.post(
    "/members/{member_id}/departures",
    status_code=201,
    response_model=DepartureResponse,
    summary="Record a departure and issue an activity certificate (流动党员活动证)",
)
def record_departure(
    member_id: UUID, body: RecordDeparture, rt: Runtime, who: Writer
) -> DepartureResponse:
    try:
        result = rt.app.record_departure(member_id, **body.model_dump(), recorded_by=who.subject)
    except MemberNotFound:
        raise NotFound("member.not_found", f"no member {member_id}") from None
    except DomainError as exc:
        raise domain_error(exc) from None
    rt.after_write()
    advice = (
        "expected stay is long enough to transfer membership instead (应转尽转)"
        if result.should_transfer
        else "certificate issued; the member must report to the host within the deadline"
    )
    return DepartureResponse(
        member_id=result.member_id,
        certificate_no=result.certificate_no,
        should_transfer=result.should_transfer,
        advice=advice,
    )


@router.get("/members", response_model=Page, summary="List members (from the read model)")
def list_members(
    rt: Runtime,
    _: Reader,
    host_place: str | None = Query(None, pattern=r"^\d{6}$"),
    status: str | None = Query(None, max_length=20),
    offset: int = Query(0, ge=0),
    limit: int = Query(50, ge=1, le=500),
) -> Page:
    where = []
    if host_place:
        where.append(members.c.host_place == host_place)
    if status:
        where.append(members.c.status == status)
    with rt.engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(members).where(*where)).scalar()
        rows = conn.execute(
            sa.select(members)
            .where(*where)
            .order_by(members.c.registered_at, members.c.member_id)
            .offset(offset)
            .limit(limit)
        ).mappings()
        items = [MemberSummary.model_validate(dict(row)) for row in rows]
    return Page(items=items, total=total or 0, offset=offset, limit=limit)


@router.get("/members/{member_id}", response_model=MemberSummary, summary="One member")
def get_member(member_id: UUID, rt: Runtime, _: Reader) -> MemberSummary:
    with rt.engine.connect() as conn:
        row = (
            conn.execute(sa.select(members).where(members.c.member_id == str(member_id)))
            .mappings()
            .first()
        )
    if row is None:
        raise NotFound("member.not_found", f"no member {member_id}")
    return MemberSummary.model_validate(dict(row))
