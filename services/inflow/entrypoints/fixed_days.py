"""Fixed days (固定党日 / 党员服务日 / 议事会) of the host's branches, and a branch's to-do list.

How many fixed days missed in a row put a member on the to-do list is a setting of the service
(``LIANGDI_FIXED_DAYS_MISSED_IN_A_ROW``, default 3); a query may ask for another number.
"""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

import sqlalchemy as sa
from fastapi import APIRouter, Path, Query

from services.inflow.adapters.practice_views import holder_names
from services.inflow.adapters.tables import branch_states, branches
from services.inflow.domain.fixed_days import (
    LABEL,
    FixedDayKind,
    FixedDays,
    Occurrence,
    missed_in_a_row,
)
from services.inflow.entrypoints.deps import Reader, Runtime, Writer, act, app_of, read
from services.inflow.entrypoints.practice_schemas import (
    FixedDayHeld,
    FixedDaySetting,
    FixedDaysView,
    FixedDayView,
    MissedList,
    MissedView,
    RecordFixedDay,
    SetFixedDay,
    ToDo,
    UpcomingAcross,
)
from services.inflow.entrypoints.practice_schemas import FixedDayKind as KindField
from shared.runtime import PlaceRuntime
from shared.security.masking import name_for
from shared.security.tokens import Principal
from shared.validation.bounds import Day, QueryDay, china_today

router = APIRouter(prefix="/api/v1", tags=["fixed days"])

Within = Query(31, ge=1, le=366, description="days ahead")
AtLeast = Query(None, ge=1, le=36, description="defaults to LIANGDI_FIXED_DAYS_MISSED_IN_A_ROW")
AsOf = Query(None, description="defaults to today")


@router.put(
    "/branches/{branch_id}/fixed-days/{kind}",
    response_model=FixedDaysView,
    summary="Set a branch's fixed day of a kind: its day of the month, from a date on",
)
def set_fixed_day(
    branch_id: UUID, body: SetFixedDay, rt: Runtime, who: Writer, kind: KindField = Path()
) -> FixedDaysView:
    days = act(
        rt, app_of(rt).set_fixed_day, branch_id, kind=kind, **body.model_dump(), set_by=who.subject
    )
    return _schedule_view(rt, branch_id, days, china_today(), 31)


@router.get(
    "/branches/{branch_id}/fixed-days",
    response_model=FixedDaysView,
    summary="A branch's fixed days: what is set, and the coming ones",
)
def branch_fixed_days(
    branch_id: UUID, rt: Runtime, _: Reader, within_days: int = Within
) -> FixedDaysView:
    _, days = app_of(rt).fixed_days_of(branch_id)
    return _schedule_view(rt, branch_id, days, china_today(), within_days)


@router.get(
    "/fixed-days/upcoming",
    response_model=list[UpcomingAcross],
    summary="The coming fixed days of every active branch of the district",
)
def upcoming_fixed_days(rt: Runtime, _: Reader, within_days: int = Within) -> list[UpcomingAcross]:
    today, app = china_today(), app_of(rt)
    found: list[UpcomingAcross] = []
    for branch_id in read(rt, _active_branch_ids):
        branch, days = app.fixed_days_of(UUID(branch_id))
        found += [
            UpcomingAcross(
                branch_id=branch.id,
                branch_name=branch.name,
                kind=o.kind,
                label=LABEL[FixedDayKind(o.kind)],
                on=o.on,
            )
            for o in days.upcoming(today, today + timedelta(days=within_days))
        ]
    return sorted(found, key=lambda u: (u.on, u.branch_name, u.kind))


@router.post(
    "/branches/{branch_id}/fixed-days/{kind}/{held_on}/attendance",
    status_code=201,
    response_model=FixedDayHeld,
    summary="Who came to a fixed day (each attendance counts as contact at the origin)",
)
def record_fixed_day(
    branch_id: UUID,
    held_on: Day,
    body: RecordFixedDay,
    rt: Runtime,
    who: Writer,
    kind: KindField = Path(),
) -> FixedDayHeld:
    app = app_of(rt)
    activity_id = act(
        rt,
        app.record_fixed_day,
        branch_id,
        kind=kind,
        held_on=held_on,
        attendee_ids=body.member_ids,
        title=body.title,
        recorded_by=who.subject,
    )
    _, days = app.fixed_days_of(branch_id)
    held = days.held[f"{kind}|{held_on.isoformat()}"]
    return FixedDayHeld(
        activity_id=activity_id,
        kind=kind,
        on=held_on,
        expected=len(held["expected"]),
        attended=len(held["attended"]),
    )


@router.get(
    "/branches/{branch_id}/fixed-days/missed",
    response_model=MissedList,
    summary="Members of the branch who missed N or more fixed days in a row",
)
def missed_fixed_days(
    branch_id: UUID,
    rt: Runtime,
    who: Reader,
    at_least: int | None = AtLeast,
    kind: KindField | None = None,
) -> MissedList:
    return _missed(rt, branch_id, who, at_least, kind)


@router.get(
    "/branches/{branch_id}/to-do",
    response_model=ToDo,
    summary="What is due in a branch: fixed days to record, the coming ones, members drifting",
)
def branch_to_do(
    branch_id: UUID,
    rt: Runtime,
    who: Reader,
    as_of: QueryDay | None = AsOf,
    within_days: int = Within,
    at_least: int | None = AtLeast,
) -> ToDo:
    today = as_of or china_today()
    branch, days = app_of(rt).fixed_days_of(branch_id)
    return ToDo(
        branch_id=branch.id,
        branch_name=branch.name,
        as_of=today,
        attendance_due=[_day(days, o) for o in days.unrecorded(today)],
        upcoming=[
            _day(days, o)
            for o in days.upcoming(today, today + timedelta(days=within_days))
            if not days.recorded(o.kind, o.on)
        ],
        missed_in_a_row=_missed(rt, branch_id, who, at_least, None),
    )


def _missed(
    rt: PlaceRuntime, branch_id: UUID, who: Principal, at_least: int | None, kind: str | None
) -> MissedList:
    n = at_least or rt.settings.fixed_days_missed_in_a_row
    branch, days = app_of(rt).fixed_days_of(branch_id)
    runs = missed_in_a_row(days.missed_runs(list(branch.members), kind), n)
    names = read(rt, holder_names, [r.member_id for r in runs])
    return MissedList(
        branch_id=branch.id,
        at_least=n,
        members=[
            MissedView(
                member_id=UUID(r.member_id),
                name=name_for(who, names.get(r.member_id, "")),
                missed_in_a_row=len(r.missed),
                missed=r.missed,
                last_attended_on=r.last_attended_on,
            )
            for r in runs
        ],
    )


def _schedule_view(
    rt: PlaceRuntime, branch_id: UUID, days: FixedDays, today: date, within: int
) -> FixedDaysView:
    branch = app_of(rt).get_branch(branch_id)
    settings = [
        FixedDaySetting(
            kind=kind,
            label=LABEL[FixedDayKind(kind)],
            day_of_month=periods[-1][1],
            since=date.fromisoformat(periods[-1][0]),
        )
        for kind, periods in sorted(days.schedule.items())
    ]
    upcoming = days.upcoming(today, today + timedelta(days=within))
    return FixedDaysView(
        branch_id=branch.id,
        branch_name=branch.name,
        settings=settings,
        upcoming=[_day(days, o) for o in upcoming],
    )


def _day(days: FixedDays, occurrence: Occurrence) -> FixedDayView:
    kind = FixedDayKind(occurrence.kind)
    return FixedDayView(
        kind=kind.value,
        label=LABEL[kind],
        on=occurrence.on,
        recorded=days.recorded(occurrence.kind, occurrence.on),
    )


def _active_branch_ids(conn: sa.Connection) -> list[str]:
    closed = sa.select(branch_states.c.branch_id).where(branch_states.c.state != "active")
    query = sa.select(branches.c.branch_id).where(branches.c.branch_id.not_in(closed))
    return [row.branch_id for row in conn.execute(query.order_by(branches.c.name))]
