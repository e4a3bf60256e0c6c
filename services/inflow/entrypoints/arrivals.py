"""Expected arrivals (from departures that came through sync) and the reporting deadline."""

from __future__ import annotations

from datetime import date
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
from services.inflow.entrypoints.responses import ExpectedArrival, Flagged, Page, redact_for
from services.inflow.entrypoints.schemas import FlagOverdue
from shared.validation.bounds import PlaceCode, QueryDay, china_today

router = APIRouter(prefix="/api/v1/arrivals", tags=["arrivals"])


def _expected(
    rt: Runtime, as_of: date, overdue_only: bool, origin_place: str | None, offset: int, limit: int
) -> Page[ExpectedArrival]:
    rows, total = read(
        rt,
        queries.expected,
        as_of=as_of,
        deadline_days=app_of(rt).reporting_deadline_days,
        overdue_only=overdue_only,
        origin_place=origin_place,
        offset=offset,
        limit=limit,
    )
    items = [ExpectedArrival.model_validate(r) for r in rows]
    return Page[ExpectedArrival](items=items, total=total, offset=offset, limit=limit)


@router.get(
    "", response_model=Page[ExpectedArrival], summary="Who is expected, from where, since when"
)
def list_expected(
    rt: Runtime,
    who: Reader,
    as_of: QueryDay | None = Query(
        None, description="date the deadline is judged on; default today"
    ),
    origin_place: PlaceCode | None = Query(None),
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[ExpectedArrival]:
    return redact_for(
        who, _expected(rt, as_of or china_today(), False, origin_place, offset, limit)
    )


@router.get(
    "/overdue",
    response_model=Page[ExpectedArrival],
    summary="Expected members who missed the reporting deadline",
)
def list_overdue(
    rt: Runtime,
    who: Reader,
    as_of: QueryDay | None = Query(None, description="default today"),
    origin_place: PlaceCode | None = Query(None),
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[ExpectedArrival]:
    return redact_for(who, _expected(rt, as_of or china_today(), True, origin_place, offset, limit))


@router.post(
    "/overdue-flags",
    response_model=Flagged,
    summary="Flag overdue reporting as of a date and tell each origin (once per deadline)",
)
def flag_overdue(body: FlagOverdue, rt: Runtime, _: Writer) -> Flagged:
    as_of = body.as_of or china_today()
    app = app_of(rt)
    candidates = read(
        rt, queries.overdue_candidates, as_of=as_of, deadline_days=app.reporting_deadline_days
    )
    flagged = act(rt, app.flag_overdue_reporting, [UUID(c) for c in candidates], as_of=as_of)
    return Flagged(as_of=as_of, flagged=flagged)
