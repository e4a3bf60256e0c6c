"""Routes of departure (with activity certificate), return home and unannounced arrivals."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa
from fastapi import APIRouter, Query

from services.outflow.adapters.tables import arrivals
from services.outflow.entrypoints.deps import ERRORS, Reader, Runtime, Writer
from services.outflow.entrypoints.member_reads import member_written
from services.outflow.entrypoints.schemas import (
    ArrivalConfirmedResponse,
    ArrivalView,
    DepartureResponse,
    MemberSummary,
    MoveResponse,
    RecordDeparture,
    RecordMove,
    RecordReturn,
)
from shared.http.paging import MAX_OFFSET
from shared.security.masking import name_for

router = APIRouter(prefix="/api/v1", tags=["departures"], responses=ERRORS)


@router.post(
    "/members/{member_id}/departures",
    status_code=201,
    response_model=DepartureResponse,
    summary="Record a departure and issue an activity certificate (流动党员活动证)",
)
def record_departure(
    member_id: UUID, body: RecordDeparture, rt: Runtime, who: Writer
) -> DepartureResponse:
    result = rt.app.record_departure(member_id, **body.model_dump(), recorded_by=who.subject)
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


@router.post(
    "/members/{member_id}/moves",
    status_code=201,
    response_model=MoveResponse,
    summary="Record a move from the member's host place to another (异地流动)",
)
def record_move(member_id: UUID, body: RecordMove, rt: Runtime, who: Writer) -> MoveResponse:
    certificate_no = rt.app.move_to_host(member_id, **body.model_dump(), recorded_by=who.subject)
    rt.after_write()
    return MoveResponse(
        member_id=member_id,
        host_place=body.to_host_place,
        certificate_no=certificate_no,
        advice="the old host closes its record; the member reports at the new host "
        "within the deadline",
    )


@router.post(
    "/members/{member_id}/return",
    response_model=MemberSummary,
    summary="Record that a departed member returned home",
)
def return_home(member_id: UUID, body: RecordReturn, rt: Runtime, who: Writer) -> MemberSummary:
    rt.app.return_home(member_id, returned_on=body.returned_on, recorded_by=who.subject)
    rt.after_write()
    return member_written(rt, member_id, who)


@router.get(
    "/arrivals",
    response_model=list[ArrivalView],
    summary="Unannounced arrivals reported by hosts, with what does not match the record",
)
def list_arrivals(
    rt: Runtime,
    who: Reader,
    confirmed: bool = Query(False, description="false: those still awaiting confirmation"),
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> list[ArrivalView]:
    with rt.engine.connect() as conn:
        rows = conn.execute(
            sa.select(arrivals)
            .where(arrivals.c.confirmed == confirmed)
            .order_by(arrivals.c.reported_at, arrivals.c.arrival_id)
            .offset(offset)
            .limit(limit)
        ).mappings()
        out = []
        for row in rows:
            data = dict(row)
            data["mismatches"] = [m for m in data["mismatches"].split(",") if m]
            data["name"] = name_for(who, data["name"])
            out.append(ArrivalView.model_validate(data))
    return out


@router.post(
    "/arrivals/{arrival_id}/confirm",
    response_model=ArrivalConfirmedResponse,
    summary="Confirm an unannounced arrival (tells the host: member.arrival_confirmed)",
)
def confirm_arrival(arrival_id: UUID, rt: Runtime, who: Writer) -> ArrivalConfirmedResponse:
    member_id = rt.app.confirm_arrival(arrival_id, recorded_by=who.subject)
    rt.after_write()
    return ArrivalConfirmedResponse(arrival_id=arrival_id, member_id=member_id)
