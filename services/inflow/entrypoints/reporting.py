"""Reporting (报到): announced members with their certificate, and unannounced arrivals."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from services.inflow.entrypoints.deps import Runtime, Writer, act, app_of
from services.inflow.entrypoints.responses import Created
from services.inflow.entrypoints.schemas import ReportArrival, ReportUnannounced

router = APIRouter(prefix="/api/v1", tags=["reporting"])


@router.post(
    "/members/{member_id}/report",
    status_code=204,
    summary="The member reports (报到) with their activity certificate",
)
def report_arrival(member_id: UUID, body: ReportArrival, rt: Runtime, who: Writer) -> None:
    act(rt, app_of(rt).record_report, member_id, **body.model_dump(), recorded_by=who.subject)


@router.post(
    "/arrivals/unannounced",
    status_code=201,
    response_model=Created,
    summary="Someone no departure announced reports; the origin is asked to confirm",
)
def report_unannounced(body: ReportUnannounced, rt: Runtime, who: Writer) -> Created:
    record_id = act(
        rt, app_of(rt).record_unannounced_report, **body.model_dump(), recorded_by=who.subject
    )
    return Created(id=record_id)
