"""Queries over the read models: paginated, in a stable order, never a replay per request."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from services.inflow.adapters.tables import (
    activities,
    assistance,
    attendance,
    branch_states,
    branches,
    evaluations,
    members,
)
from shared.validation import county_name

PRESENT = ("reported", "received")
Rows = tuple[list[dict[str, Any]], int]


def page(conn: sa.Connection, query: sa.Select, order: list[Any], offset: int, limit: int) -> Rows:
    total = conn.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar() or 0
    rows = conn.execute(query.order_by(*order).offset(offset).limit(limit)).mappings()
    return [dict(row) for row in rows], total


def with_county(row: dict[str, Any]) -> dict[str, Any]:
    return row | {"origin_county": county_name(row["origin_place"])}


def list_members(
    conn: sa.Connection, *, offset: int, limit: int, status: str | None = None, **eq: Any
) -> Rows:
    query = sa.select(members)
    if status == "present":
        query = query.where(members.c.status.in_(PRESENT))
    elif status:
        query = query.where(members.c.status == status)
    for column, value in eq.items():
        if value is not None:
            query = query.where(members.c[column] == value)
    rows, total = page(conn, query, [members.c.expected_since, members.c.member_id], offset, limit)
    return [with_county(r) for r in rows], total


def member(conn: sa.Connection, member_id: str) -> dict[str, Any] | None:
    query = sa.select(members).where(
        sa.or_(members.c.member_id == member_id, members.c.origin_member_id == member_id)
    )
    row = conn.execute(query).mappings().first()
    return with_county(dict(row)) if row else None


def expected(
    conn: sa.Connection,
    *,
    as_of: date,
    deadline_days: int,
    overdue_only: bool,
    origin_place: str | None,
    offset: int,
    limit: int,
) -> Rows:
    """Expected arrivals; overdue when the deadline (departure + N days) passed before `as_of`."""
    query = sa.select(members).where(members.c.status == "expected")
    if overdue_only:
        query = query.where(members.c.departed_on < as_of - timedelta(days=deadline_days))
    if origin_place:
        query = query.where(members.c.origin_place == origin_place)
    rows, total = page(conn, query, [members.c.departed_on, members.c.member_id], offset, limit)
    out = []
    for row in rows:
        due = row["departed_on"] + timedelta(days=deadline_days)
        out.append(with_county(row) | {"due_on": due, "overdue": as_of > due})
    return out, total


def overdue_candidates(conn: sa.Connection, *, as_of: date, deadline_days: int) -> list[str]:
    """Expected members past the deadline not yet flagged for it (the aggregate re-checks)."""
    query = (
        sa.select(members.c.member_id)
        .where(members.c.status == "expected")
        .where(members.c.departed_on < as_of - timedelta(days=deadline_days))
        .order_by(members.c.departed_on, members.c.member_id)
    )
    return list(conn.execute(query).scalars())


def _brief(row: Any) -> dict[str, Any]:
    return {k: row[k] for k in ("member_id", "name", "origin_place", "employer", "locality")}


def proposals(conn: sa.Connection, *, minimum: int) -> dict[str, Any]:
    """Where `minimum`+ reported members without a branch share an employer or locality."""
    unbranched = conn.execute(
        sa.select(members)
        .where(members.c.status.in_(PRESENT), members.c.branch_id.is_(None))
        .order_by(members.c.reported_on, members.c.member_id)
    ).mappings()
    rows = [_brief(r) for r in unbranched]
    found, proposed = [], set()
    for basis in ("employer", "locality"):
        counts = Counter(r[basis] for r in rows if r[basis])
        for value in sorted(v for v, n in counts.items() if n >= minimum):
            group = [r for r in rows if r[basis] == value]
            proposed.update(r["member_id"] for r in group)
            found.append(
                {"basis": basis, "value": value, "member_count": len(group), "members": group}
            )
    joint = [r for r in rows if r["member_id"] not in proposed]
    return {"minimum": minimum, "proposals": found, "joint_candidates": joint}


def _branch_query() -> sa.Select:
    # A branch without a row in branch_states never changed after formation: active.
    state = sa.func.coalesce(branch_states.c.state, "active").label("state")
    extra = [branch_states.c[c] for c in ("merged_into", "ended_on", "end_reason")]
    columns = [*branches.c, state, *extra, branch_states.c.over_norm_reason]
    joined = branches.outerjoin(branch_states, branch_states.c.branch_id == branches.c.branch_id)
    return sa.select(*columns).select_from(joined)


def _flags(row: dict[str, Any], maximum: int, minimum: int | None) -> dict[str, Any]:
    """Oversized beyond the norm; below the floor (a mobile branch a member left by departing)."""
    below = (
        minimum is not None
        and row["state"] == "active"
        and row["kind"] == "mobile"
        and row["member_count"] < minimum
    )
    return row | {"oversized": row["member_count"] > maximum, "below_minimum": below}


def list_branches(
    conn: sa.Connection, *, maximum: int, offset: int, limit: int, minimum: int | None = None
) -> Rows:
    order = [branches.c.formed_at, branches.c.branch_id]
    rows, total = page(conn, _branch_query(), order, offset, limit)
    return [_flags(r, maximum, minimum) for r in rows], total


def branch(
    conn: sa.Connection, branch_id: str, *, maximum: int, minimum: int | None = None
) -> dict[str, Any] | None:
    query = _branch_query().where(branches.c.branch_id == branch_id)
    found = conn.execute(query).mappings().first()
    if found is None:
        return None
    in_branch = conn.execute(
        sa.select(members)
        .where(members.c.branch_id == branch_id)
        .order_by(members.c.name, members.c.member_id)
    ).mappings()
    return _flags(dict(found), maximum, minimum) | {"members": [_brief(r) for r in in_branch]}


def list_activities(conn: sa.Connection, *, year: int | None, offset: int, limit: int) -> Rows:
    query = sa.select(activities)
    if year:
        query = query.where(
            activities.c.held_on >= date(year, 1, 1), activities.c.held_on <= date(year, 12, 31)
        )
    return page(conn, query, [activities.c.held_on, activities.c.activity_id], offset, limit)


def attendance_of(conn: sa.Connection, member_id: str, year: int) -> dict[str, Any]:
    rows = conn.execute(
        sa.select(attendance)
        .where(attendance.c.member_id == member_id, attendance.c.year == year)
        .order_by(attendance.c.held_on, attendance.c.activity_id)
    ).mappings()
    items = [dict(r) for r in rows]
    by_kind = dict(sorted(Counter(i["kind"] for i in items).items()))
    return {
        "member_id": member_id,
        "year": year,
        "total": len(items),
        "by_kind": by_kind,
        "items": items,
    }


def list_evaluations(
    conn: sa.Connection, *, member_id: str | None, year: int | None, offset: int, limit: int
) -> Rows:
    query = sa.select(evaluations)
    if member_id:
        query = query.where(evaluations.c.member_id == member_id)
    if year:
        query = query.where(evaluations.c.year == year)
    order = [evaluations.c.year, evaluations.c.member_id]
    return page(conn, query, order, offset, limit)


def list_assistance(
    conn: sa.Connection, *, status: str | None, member_id: str | None, offset: int, limit: int
) -> Rows:
    query = sa.select(assistance)
    if status:
        query = query.where(assistance.c.status == status)
    if member_id:
        query = query.where(assistance.c.member_id == member_id)
    order = [assistance.c.requested_at, assistance.c.request_id]
    return page(conn, query, order, offset, limit)


def assistance_request(conn: sa.Connection, request_id: str) -> dict[str, Any] | None:
    query = sa.select(assistance).where(assistance.c.request_id == request_id)
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None
