"""The audit trail: who did what, from which place and role, kept in the service's own database.

Every write (any non-GET request, allowed or refused) is recorded by the HTTP middleware, and
every read of full personal data by the route that serves it, before the data leaves. Entries
hold route templates and member ids, never request bodies or query strings (those may carry
personal data). Queryable through GET /api/v1/audit by the roles the matrix admits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from shared.group_commit import GroupCommit
from shared.http.auth import guard
from shared.http.errors import ApiError
from shared.security.tokens import Principal

PERSONAL_READ = "personal_data.read"

metadata = sa.MetaData()
audit_log = sa.Table(
    "security_audit",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("service", sa.String(20), nullable=False),
    sa.Column("served_place", sa.String(6)),
    sa.Column("subject", sa.String(200), index=True),
    sa.Column("role", sa.String(30)),
    sa.Column("actor_place", sa.String(6)),
    sa.Column("action", sa.String(300), nullable=False, index=True),
    sa.Column("method", sa.String(10), nullable=False),
    sa.Column("path", sa.String(500), nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("member_id", sa.String(36), index=True),
    sa.Column("remote", sa.String(64)),
)


@dataclass
class AuditTrail:
    engine: sa.Engine
    service: str
    place: str | None
    _entries: GroupCommit = field(init=False, repr=False)

    def __post_init__(self) -> None:
        metadata.create_all(self.engine, checkfirst=True)
        # Entries of concurrent requests go in one INSERT and one commit; each caller still
        # returns only once its own entry is stored (shared/group_commit.py).
        self._entries = GroupCommit(self._insert)

    def _insert(self, entries: Sequence[dict[str, Any]]) -> list[None]:
        # One multi-row INSERT in its own implicit transaction: one round trip, where BEGIN,
        # INSERT and COMMIT each wait for this process's interpreter under load.
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(audit_log.insert(), list(entries))
        return [None] * len(entries)

    def record(
        self,
        *,
        action: str,
        method: str,
        path: str,
        status: int,
        principal: Principal | None,
        member_id: str | None = None,
        remote: str | None = None,
    ) -> None:
        entry = {
            "at": datetime.now(UTC),
            "service": self.service,
            "served_place": self.place,
            "subject": principal.subject[:200] if principal else None,
            "role": str(principal.role) if principal else None,
            "actor_place": principal.place if principal else None,
            "action": action[:300],
            "method": method[:10],
            "path": path[:500],
            "status": status,
            "member_id": member_id,
            "remote": (remote or "")[:64] or None,
        }
        self._entries.put([entry])

    def query(self, *, offset: int, limit: int, **filters: Any) -> tuple[int, list[dict[str, Any]]]:
        where = []
        if filters.get("since"):
            where.append(audit_log.c.at >= filters["since"])
        if filters.get("until"):
            where.append(audit_log.c.at < filters["until"])
        for column in ("subject", "action", "role", "member_id"):
            if filters.get(column):
                where.append(audit_log.c[column] == str(filters[column]))
        with self.engine.connect() as conn:
            total = conn.execute(
                sa.select(sa.func.count()).select_from(audit_log).where(*where)
            ).scalar()
            rows = conn.execute(
                sa.select(audit_log)
                .where(*where)
                .order_by(audit_log.c.id.desc())
                .offset(offset)
                .limit(limit)
            ).mappings()
            return total or 0, [dict(row) for row in rows]


def record_personal_read(request: Request, principal: Principal, member_id: UUID | str) -> None:
    """Records a read of full personal data; refuses (503) to serve it if that fails."""
    trail: AuditTrail | None = getattr(request.app.state, "audit", None)
    route = request.scope.get("route")
    try:
        if trail is None:
            raise RuntimeError("no audit trail")
        trail.record(
            action=PERSONAL_READ,
            method=request.method,
            path=getattr(route, "path_format", request.url.path),
            status=200,
            principal=principal,
            member_id=str(member_id),
            remote=request.client.host if request.client else None,
        )
    except Exception:
        raise ApiError(
            "audit.unavailable", "the audit trail cannot record this read", 503
        ) from None
    request.state.audited = True


class AuditEntry(BaseModel):
    id: int
    at: datetime
    service: str
    served_place: str | None
    subject: str | None
    role: str | None
    actor_place: str | None
    action: str
    method: str
    path: str
    status: int
    member_id: str | None
    remote: str | None


class AuditPage(BaseModel):
    items: list[AuditEntry]
    total: int
    offset: int
    limit: int


def audit_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["audit"])

    @router.get("/audit", response_model=AuditPage, summary="The audit trail, newest first")
    def read_audit(
        request: Request,
        _: Annotated[None, Depends(guard)],
        since: datetime | None = Query(None, description="entries at or after this time"),
        until: datetime | None = Query(None, description="entries before this time"),
        subject: str | None = Query(None, max_length=200, description="who (token subject)"),
        action: str | None = Query(None, max_length=300, examples=[PERSONAL_READ]),
        role: str | None = Query(None, max_length=30),
        member_id: UUID | None = Query(None),
        offset: int = Query(0, ge=0, le=10_000_000),
        limit: int = Query(50, ge=1, le=500),
    ) -> AuditPage:
        trail: AuditTrail = request.app.state.audit
        total, rows = trail.query(
            offset=offset,
            limit=limit,
            since=since,
            until=until,
            subject=subject,
            action=action,
            role=role,
            member_id=member_id,
        )
        return AuditPage(
            items=[AuditEntry.model_validate(r) for r in rows],
            total=total,
            offset=offset,
            limit=limit,
        )

    return router
