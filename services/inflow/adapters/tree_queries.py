"""The host's branches as one origin county's organisation tree counts them (read model)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from services.inflow.adapters.tables import branch_states, branches, members

PRESENT = ("reported", "received")


def tree_branches(conn: sa.Connection, *, origin_place: str) -> list[dict[str, Any]]:
    """Active branches with their present members of `origin_place` (a joint branch may hold
    members of other counties too: only this county's count towards its tree)."""
    state = sa.func.coalesce(branch_states.c.state, "active")
    count = sa.func.count(members.c.member_id).label("members")
    rows = conn.execute(
        sa.select(branches.c.branch_id, branches.c.name, count)
        .select_from(
            branches.outerjoin(
                branch_states, branch_states.c.branch_id == branches.c.branch_id
            ).join(members, members.c.branch_id == branches.c.branch_id)
        )
        .where(
            state == "active",
            members.c.origin_place == origin_place,
            members.c.status.in_(PRESENT),
        )
        .group_by(branches.c.branch_id, branches.c.name)
        .order_by(branches.c.name, branches.c.branch_id)
    ).mappings()
    return [dict(r) for r in rows]
