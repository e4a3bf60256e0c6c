"""Routes of the quarterly verification (每季度查档案、查地址、查联系方式)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Query

from services.outflow.entrypoints.deps import ERRORS, Reader, Runtime, Writer
from services.outflow.entrypoints.member_reads import list_members, member_written
from services.outflow.entrypoints.schemas import MemberSummary, Page, RecordVerification
from shared.http.paging import MAX_OFFSET
from shared.validation.bounds import QueryDay, china_today

router = APIRouter(prefix="/api/v1", tags=["verification"], responses=ERRORS)


@router.post(
    "/members/{member_id}/verifications",
    response_model=MemberSummary,
    summary="Record the quarterly check of file, address and contact",
)
def record_verification(
    member_id: UUID, body: RecordVerification, rt: Runtime, who: Writer
) -> MemberSummary:
    rt.app.record_verification(member_id, **body.model_dump(), recorded_by=who.subject)
    rt.after_write()
    return member_written(rt, member_id, who)


@router.get(
    "/verifications/overdue",
    response_model=Page,
    summary="Members whose quarterly check is overdue on a day",
)
def overdue(
    rt: Runtime,
    who: Reader,
    as_of: QueryDay | None = Query(None, examples=["2026-07-01"], description="default: today"),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    limit: int = Query(50, ge=1, le=500),
) -> Page:
    return list_members(
        rt, who, overdue_check=True, as_of=as_of or china_today(), offset=offset, limit=limit
    )
