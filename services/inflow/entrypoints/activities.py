"""The activity register (活动全登记): activities with attendance, and attendance per member."""

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
from services.inflow.entrypoints.responses import ActivityView, AttendanceView, Created, Page
from services.inflow.entrypoints.schemas import RecordActivity, RecordAttendance
from shared.http.errors import NotFound

router = APIRouter(prefix="/api/v1", tags=["activities"])


@router.post(
    "/activities",
    status_code=201,
    response_model=Created,
    summary="Register an activity with its attendance (each attendance counts as contact)",
)
def record_activity(body: RecordActivity, rt: Runtime, who: Writer) -> Created:
    activity_id = act(rt, app_of(rt).record_activity, **body.model_dump(), recorded_by=who.subject)
    return Created(id=activity_id)


@router.post(
    "/activities/{activity_id}/attendance",
    status_code=204,
    summary="Add attendance of members hosted here to a registered activity",
)
def record_attendance(activity_id: UUID, body: RecordAttendance, rt: Runtime, who: Writer) -> None:
    act(rt, app_of(rt).record_attendance, activity_id, body.member_ids, who.subject)


@router.get("/activities", response_model=Page[ActivityView], summary="Registered activities")
def list_activities(
    rt: Runtime,
    _: Reader,
    year: int | None = Query(None, ge=2000, le=2100),
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[ActivityView]:
    rows, total = read(rt, queries.list_activities, year=year, offset=offset, limit=limit)
    items = [ActivityView.model_validate(r) for r in rows]
    return Page[ActivityView](items=items, total=total, offset=offset, limit=limit)


@router.get(
    "/members/{member_id}/attendance",
    response_model=AttendanceView,
    summary="A member's attendance in a year",
)
def member_attendance(
    member_id: UUID, rt: Runtime, _: Reader, year: int = Query(ge=2000, le=2100)
) -> AttendanceView:
    if read(rt, queries.member, str(member_id)) is None:
        raise NotFound("member.not_found", f"no member {member_id}")
    return AttendanceView.model_validate(read(rt, queries.attendance_of, str(member_id), year))
