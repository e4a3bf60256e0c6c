"""Routes of lost contact (失联): candidates, flag, suspend, restore, remove."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Query

from services.outflow.entrypoints.deps import ERRORS, Reader, Runtime, Writer
from services.outflow.entrypoints.member_reads import list_members, member_written
from services.outflow.entrypoints.schemas import Decision, MarkLost, MemberSummary, Page, Restore
from shared.http.paging import MAX_OFFSET
from shared.validation.bounds import QueryDay, china_today

router = APIRouter(prefix="/api/v1", tags=["lost contact"], responses=ERRORS)


@router.get(
    "/lost-contact/candidates",
    response_model=Page,
    summary="Departed members with no contact for the configured period (6 months)",
)
def candidates(
    rt: Runtime,
    who: Reader,
    as_of: QueryDay | None = Query(None, examples=["2026-10-01"], description="default: today"),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    limit: int = Query(50, ge=1, le=500),
) -> Page:
    return list_members(
        rt, who, lost_candidate=True, as_of=as_of or china_today(), offset=offset, limit=limit
    )


@router.post(
    "/members/{member_id}/lost",
    response_model=MemberSummary,
    summary="Flag a member as lost contact, with a reason code",
)
def mark_lost(member_id: UUID, body: MarkLost, rt: Runtime, who: Writer) -> MemberSummary:
    rt.app.mark_lost(member_id, **body.model_dump(), recorded_by=who.subject)
    rt.after_write()
    return member_written(rt, member_id, who)


@router.post(
    "/members/{member_id}/suspension",
    response_model=MemberSummary,
    summary="Suspend the membership of a lost member by decision",
)
def suspend(member_id: UUID, body: Decision, rt: Runtime, who: Writer) -> MemberSummary:
    rt.app.suspend(member_id, **body.model_dump(), recorded_by=who.subject)
    rt.after_write()
    return member_written(rt, member_id, who)


@router.post(
    "/members/{member_id}/restoration",
    response_model=MemberSummary,
    summary="Restore a lost or suspended member (contact regained)",
)
def restore(member_id: UUID, body: Restore, rt: Runtime, who: Writer) -> MemberSummary:
    rt.app.restore(member_id, **body.model_dump(), recorded_by=who.subject)
    rt.after_write()
    return member_written(rt, member_id, who)


@router.post(
    "/members/{member_id}/removal",
    response_model=MemberSummary,
    summary="Remove a member still unreachable 2 years after suspension",
)
def remove(member_id: UUID, body: Decision, rt: Runtime, who: Writer) -> MemberSummary:
    rt.app.remove(member_id, **body.model_dump(), recorded_by=who.subject)
    rt.after_write()
    return member_written(rt, member_id, who)
