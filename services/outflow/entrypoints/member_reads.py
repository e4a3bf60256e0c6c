"""Reads from the read models, shared by the routers (no aggregate is replayed per request)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from services.outflow.adapters.projection import member_row
from services.outflow.adapters.tables import assessments, members
from services.outflow.application import MemberNotFound
from services.outflow.domain.base import MemberBase
from services.outflow.entrypoints.schemas import MemberSummary, Page
from shared.http.errors import NotFound
from shared.read_models import behind_in_request
from shared.runtime import PlaceRuntime
from shared.security.masking import name_for
from shared.security.tokens import Principal


def present(row: dict[str, Any], who: Principal) -> MemberSummary:
    """Auditors see no personal data at all: even the name is masked for them."""
    summary = MemberSummary.model_validate(row)
    return summary.model_copy(update={"name": name_for(who, summary.name)})


def member_summary(rt: PlaceRuntime, member_id: UUID, who: Principal) -> MemberSummary:
    """The member as the members read model holds it (an API read waits for the read models
    first, see `shared.http.read_models`)."""
    with rt.engine.connect() as conn:
        row = (
            conn.execute(sa.select(members).where(members.c.member_id == str(member_id)))
            .mappings()
            .first()
        )
    if row is None or "members" in (behind_in_request.get() or ()):
        # The members read model is behind this request's write (docs/operations.md, "Read
        # models"): answer from the store, never a stale row or a 404 for a stored fact.
        row = _from_store(rt, member_id) or row
    if row is None:
        raise NotFound("member.not_found", f"no member {member_id}")
    return present(dict(row), who)


def member_written(rt: PlaceRuntime, member_id: UUID, who: Principal) -> MemberSummary:
    """A write's answer: the member as just saved, straight from the store, without waiting for
    the read models. The read model builds its row with the same `member_row`, so both agree."""
    row = _from_store(rt, member_id)
    if row is None:
        raise NotFound("member.not_found", f"no member {member_id}")
    return present(row, who)


def _from_store(rt: PlaceRuntime, member_id: UUID) -> dict[str, Any] | None:
    try:
        m = rt.app.get_member(member_id)  # type: ignore[attr-defined]
    except MemberNotFound:
        return None
    if not isinstance(m, MemberBase):  # another aggregate's id
        return None
    return {"member_id": str(m.id)} | member_row(
        rt.app, m, updated_at=m.modified_on, version=m.version
    )


def list_members(
    rt: PlaceRuntime,
    who: Principal,
    *,
    host_place: str | None = None,
    status: str | None = None,
    overdue_check: bool | None = None,
    lost_candidate: bool | None = None,
    assessment_year: int | None = None,
    assessment_state: str | None = None,
    as_of: date,
    offset: int = 0,
    limit: int = 50,
) -> Page:
    where: list[Any] = []
    if host_place:
        where.append(members.c.host_place == host_place)
    if status:
        where.append(members.c.status == status)
    if overdue_check is not None:
        overdue = members.c.next_check_due < as_of
        where.append(
            overdue if overdue_check else sa.or_(~overdue, members.c.next_check_due.is_(None))
        )
    if lost_candidate is not None:
        threshold = as_of - timedelta(days=rt.app.rules.lost_contact_after_days)
        candidate = sa.and_(members.c.status == "departed", members.c.last_contact_on <= threshold)
        where.append(candidate if lost_candidate else ~candidate)
    source: Any = members
    if assessment_year is not None:
        joined = sa.and_(
            assessments.c.member_id == members.c.member_id, assessments.c.year == assessment_year
        )
        source = members.outerjoin(assessments, joined)
        if assessment_state == "none":
            where.append(assessments.c.assessment_id.is_(None))
        elif assessment_state:
            where.append(assessments.c.state == assessment_state)
    with rt.engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(source).where(*where)).scalar()
        rows = conn.execute(
            sa.select(members)
            .select_from(source)
            .where(*where)
            .order_by(members.c.registered_at, members.c.member_id)  # stable across pages
            .offset(offset)
            .limit(limit)
        ).mappings()
        items = [present(dict(row), who) for row in rows]
    return Page(items=items, total=total or 0, offset=offset, limit=limit)


def related_streams(rt: PlaceRuntime, member_id: UUID) -> list[UUID]:
    """The member's assessments and assistance applications, for the timeline."""
    from services.outflow.adapters.tables import applications

    with rt.engine.connect() as conn:
        ids = (
            conn.execute(
                sa.select(assessments.c.assessment_id).where(
                    assessments.c.member_id == str(member_id)
                )
            )
            .scalars()
            .all()
        )
        ids += (
            conn.execute(
                sa.select(applications.c.application_id).where(
                    applications.c.member_id == str(member_id)
                )
            )
            .scalars()
            .all()
        )
    return [UUID(i) for i in ids]
