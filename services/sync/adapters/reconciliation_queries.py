"""Queries over the reconciliation read models, evaluated at a given date (`as_of`)."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from services.sync.adapters.reconciliation_projection import assessments, mismatches
from services.sync.domain.assessment import AssessmentState
from services.sync.domain.membership import Mismatch


def effective_state(as_of: date) -> sa.ColumnElement[str]:
    """Overdue wins over every stage but concluded once the evaluation deadline has passed."""
    return sa.case(
        (
            sa.and_(
                assessments.c.stage != AssessmentState.CONCLUDED.value,
                assessments.c.deadline < as_of,
            ),
            AssessmentState.OVERDUE.value,
        ),
        else_=assessments.c.stage,
    )


def _assessment_filters(year: int | None, place: str | None) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = []
    if year is not None:
        where.append(assessments.c.year == year)
    if place:
        where.append(sa.or_(assessments.c.origin_place == place, assessments.c.host_place == place))
    return where


def assessment_counts(
    conn: sa.Connection, *, as_of: date, year: int | None, place: str | None
) -> dict[str, int]:
    state = effective_state(as_of).label("state")
    rows = conn.execute(
        sa.select(state, sa.func.count())
        .select_from(assessments)
        .where(*_assessment_filters(year, place))
        .group_by(state)
    )
    counts = {s.value: 0 for s in AssessmentState}
    counts.update({row[0]: int(row[1]) for row in rows})
    return counts


def list_assessments(
    conn: sa.Connection,
    *,
    as_of: date,
    state: str | None,
    year: int | None,
    place: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    current = effective_state(as_of)
    where = _assessment_filters(year, place)
    if state:
        where.append(current == state)
    total = conn.execute(sa.select(sa.func.count()).select_from(assessments).where(*where)).scalar()
    rows = conn.execute(
        sa.select(assessments, current.label("state"))
        .where(*where)
        .order_by(assessments.c.year, assessments.c.origin_place, assessments.c.member_id)
        .offset(offset)
        .limit(limit)
    ).mappings()
    return [dict(row) for row in rows], int(total or 0)


def _mismatch_filters(
    as_of: date, kind: str | None, place: str | None
) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = [mismatches.c.due_on <= as_of]
    if kind:
        where.append(mismatches.c.kind == kind)
    if place:
        where.append(sa.or_(mismatches.c.origin_place == place, mismatches.c.host_place == place))
    return where


def mismatch_counts(conn: sa.Connection, *, as_of: date, place: str | None) -> dict[str, int]:
    rows = conn.execute(
        sa.select(mismatches.c.kind, sa.func.count())
        .where(*_mismatch_filters(as_of, None, place))
        .group_by(mismatches.c.kind)
    )
    counts = {m.value: 0 for m in Mismatch}
    counts.update({row[0]: int(row[1]) for row in rows})
    return counts


def list_mismatches(
    conn: sa.Connection,
    *,
    as_of: date,
    kind: str | None,
    place: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    where = _mismatch_filters(as_of, kind, place)
    total = conn.execute(sa.select(sa.func.count()).select_from(mismatches).where(*where)).scalar()
    rows = conn.execute(
        sa.select(mismatches)
        .where(*where)
        .order_by(mismatches.c.since, mismatches.c.subject_id, mismatches.c.kind)
        .offset(offset)
        .limit(limit)
    ).mappings()
    items = []
    for row in rows:
        item = dict(row)
        item["age_days"] = (as_of - item["since"]).days
        items.append(item)
    return items, int(total or 0)
