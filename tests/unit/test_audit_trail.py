"""The audit trail under concurrent requests: entries written together, each one kept whole."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from shared.eventstore import sqlalchemy_engine
from shared.security.audit import AuditTrail
from shared.security.tokens import Principal, Role


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> sa.Engine:
    if request.param == "sqlite":
        return sqlalchemy_engine(f"sqlite:///{tmp_path / 'audit.db'}")
    return sqlalchemy_engine(request.getfixturevalue("pg_database_url"))


def test_concurrent_entries_are_each_stored_whole(engine: sa.Engine) -> None:
    trail = AuditTrail(engine, "outflow", "371326")
    writers = 24
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        barrier.wait()
        try:
            for k in range(5):
                trail.record(
                    action=f"POST /api/v1/members/{{member_id}}/contacts#{n}",
                    method="POST",
                    path=f"/api/v1/members/{n}/contacts",
                    status=200 + k,
                    principal=Principal(f"operator-{n}", Role.ORIGIN_OPERATOR, "371326"),
                    member_id=f"member-{n}",
                    remote="127.0.0.1",
                )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    total, rows = trail.query(offset=0, limit=500)
    assert total == writers * 5
    got = sorted((r["subject"], r["member_id"], r["path"], r["status"]) for r in rows)
    assert got == sorted(
        (f"operator-{n}", f"member-{n}", f"/api/v1/members/{n}/contacts", 200 + k)
        for n in range(writers)
        for k in range(5)
    )
    assert {r["role"] for r in rows} == {"origin_operator"}
