"""HTTP routes of the host district's service. Thin: parse, call the application, translate."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request

from services.inflow.adapters.projection import hosted
from services.inflow.application import MemberNotFound
from services.inflow.domain.errors import DomainError
from services.inflow.entrypoints.schemas import HostedSummary, Page, ReportArrival
from shared.http.auth import allow
from shared.http.errors import ApiError, NotFound
from shared.runtime import PlaceRuntime
from shared.security.tokens import Principal, Role

router = APIRouter(prefix="/api/v1", tags=["members"])

Writer = Annotated[Principal, Depends(allow(Role.HOST_OPERATOR))]
Reader = Annotated[Principal, Depends(allow(Role.HOST_OPERATOR, Role.AUDITOR))]


def runtime(request: Request) -> PlaceRuntime:
    return request.app.state.runtime


Runtime = Annotated[PlaceRuntime, Depends(runtime)]


def domain_error(exc: DomainError) -> ApiError:
    return ApiError(exc.code, exc.message, 409 if exc.code.endswith("wrong_state") else 422)


@router.get("/members", response_model=Page, summary="Members expected or hosted here")
def list_members(
    rt: Runtime,
    _: Reader,
    status: str | None = Query(None, max_length=20),
    origin_place: str | None = Query(None, pattern=r"^\d{6}$"),
    employer: str | None = Query(None, max_length=200),
    offset: int = Query(0, ge=0),
    limit: int = Query(50, ge=1, le=500),
) -> Page:
    where = []
    if status:
        where.append(hosted.c.status == status)
    if origin_place:
        where.append(hosted.c.origin_place == origin_place)
    if employer:
        where.append(hosted.c.employer == employer)
    with rt.engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(hosted).where(*where)).scalar()
        rows = conn.execute(
            sa.select(hosted)
            .where(*where)
            .order_by(hosted.c.expected_since, hosted.c.member_id)
            .offset(offset)
            .limit(limit)
        ).mappings()
        items = [HostedSummary.model_validate(dict(row)) for row in rows]
    return Page(items=items, total=total or 0, offset=offset, limit=limit)


@router.get("/members/{member_id}", response_model=HostedSummary, summary="One hosted member")
def get_member(member_id: UUID, rt: Runtime, _: Reader) -> HostedSummary:
    with rt.engine.connect() as conn:
        row = (
            conn.execute(
                sa.select(hosted).where(
                    sa.or_(
                        hosted.c.member_id == str(member_id),
                        hosted.c.origin_member_id == str(member_id),
                    )
                )
            )
            .mappings()
            .first()
        )
    if row is None:
        raise NotFound("member.not_found", f"no member {member_id}")
    return HostedSummary.model_validate(dict(row))


@router.post(
    "/members/{member_id}/report",
    status_code=204,
    summary="The member reports (报到) with their activity certificate",
)
def report_arrival(member_id: UUID, body: ReportArrival, rt: Runtime, who: Writer) -> None:
    try:
        rt.app.record_report(member_id, **body.model_dump(), recorded_by=who.subject)
    except MemberNotFound:
        raise NotFound("member.not_found", f"no member {member_id}") from None
    except DomainError as exc:
        raise domain_error(exc) from None
    rt.after_write()
