"""The host's annual evaluation (双向互评), with its evidence, and the origin's conclusion."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Query

from services.inflow.adapters import queries
from services.inflow.entrypoints.deps import (
    Limit,
    Offset,
    Reader,
    Runtime,
    Writer,
    act,
    app_of,
    read,
)
from services.inflow.entrypoints.responses import AttendanceView, EvaluationView, Page
from services.inflow.entrypoints.schemas import EvaluateMember

router = APIRouter(prefix="/api/v1", tags=["evaluations"])


@router.post(
    "/members/{member_id}/evaluations",
    status_code=201,
    response_model=AttendanceView,
    summary="The host's evaluation for a year; the year's attendance goes with it as evidence",
)
def evaluate_member(
    member_id: UUID, body: EvaluateMember, rt: Runtime, who: Writer
) -> AttendanceView:
    evidence = read(rt, queries.attendance_of, str(member_id), body.year)
    act(
        rt,
        app_of(rt).evaluate_member,
        member_id,
        year=body.year,
        grade=body.grade,
        comments=body.comments,
        attendance_count=evidence["total"],
        attendance_by_kind=evidence["by_kind"],
        evaluated_by=who.subject,
    )
    return AttendanceView.model_validate(evidence)


@router.get(
    "/evaluations",
    response_model=Page[EvaluationView],
    summary="Host evaluations, the origin's view and the concluded grade",
)
def list_evaluations(
    rt: Runtime,
    _: Reader,
    member_id: UUID | None = None,
    year: int | None = Query(None, ge=2000, le=2100),
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[EvaluationView]:
    rows, total = read(
        rt,
        queries.list_evaluations,
        member_id=str(member_id) if member_id else None,
        year=year,
        offset=offset,
        limit=limit,
    )
    items = [EvaluationView.model_validate(r) for r in rows]
    return Page[EvaluationView](items=items, total=total, offset=offset, limit=limit)
