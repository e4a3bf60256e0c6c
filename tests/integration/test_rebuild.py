"""`liangdi rebuild` and the admin rebuild drop a read model's tables and create them as the
running release declares them: a column or a table an older release left is gone, the rows come
back from the event store (docs/operations.md, "Rebuild"). On PostgreSQL and on SQLite."""

from __future__ import annotations

import random
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from liangdi_cli.main import app as cli
from shared.eventstore import sqlalchemy_engine
from shared.positions import PositionStore
from shared.schema_upgrade import recreate_tables
from tests.support.factories import member_body
from tests.support.harness import auth, running, settings_for, wait_until

ORIGIN = "371326"
OPERATOR = auth("origin_operator", ORIGIN)
TABLE = "outflow_members_v2"  # the members read model's table
KEY = "read-model:outflow:members"


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'origin.db'}"
    return request.getfixturevalue("pg_database_url")


def origin(database_url: str) -> Any:
    return settings_for("outflow", database_url, "nats://127.0.0.1:1", ORIGIN, sync_enabled=False)


def member_ids(c: TestClient) -> set[str]:
    r = c.get("/api/v1/members", params={"limit": 200}, headers=OPERATOR)
    assert r.status_code == 200, r.text
    return {m["member_id"] for m in r.json()["items"]}


def columns(engine: sa.Engine, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(engine).get_columns(table)}


def leave_an_old_column(engine: sa.Engine) -> None:
    """What an older release's table looks like to the newer one: a column no longer declared."""
    with engine.begin() as conn:
        conn.execute(sa.text(f"ALTER TABLE {TABLE} ADD COLUMN retired_note VARCHAR(20)"))
    assert "retired_note" in columns(engine, TABLE)


def test_rebuild_online_and_offline_leaves_no_old_column(database_url: str) -> None:
    engine = sqlalchemy_engine(database_url)
    rng = random.Random(11)
    try:
        with running("outflow", origin(database_url)) as c:
            made = {
                c.post("/api/v1/members", json=member_body(rng), headers=OPERATOR).json()[
                    "member_id"
                ]
                for _ in range(3)
            }
            assert member_ids(c) == made
        leave_an_old_column(engine)

        # Online: the admin operation (what `liangdi rebuild` calls over HTTP).
        with running("outflow", origin(database_url)) as c:
            assert "retired_note" in columns(engine, TABLE), "an upgrade only adds columns"
            r = c.post(
                "/admin/read-models/members/rebuild",
                json={"reason": "the release changed the members table"},
                headers=auth("sync_admin"),
            )
            assert r.status_code == 202, r.text
            assert "retired_note" not in columns(engine, TABLE)
            wait_until(lambda: member_ids(c) == made, message="members rebuilt from events")

        # Offline: the service is stopped; the command resets, the next start replays.
        leave_an_old_column(engine)
        result = CliRunner().invoke(
            cli,
            ["rebuild", "outflow-371326", "--offline", "--database-url", database_url],
        )
        assert result.exit_code == 0, result.output
        assert "retired_note" not in columns(engine, TABLE)
        with engine.connect() as conn:
            assert (
                conn.execute(sa.select(sa.func.count()).select_from(sa.table(TABLE))).scalar() == 0
            )
        assert PositionStore(engine).get(KEY) == 0
        with running("outflow", origin(database_url)) as c:
            wait_until(lambda: member_ids(c) == made, message="members replayed at start")
    finally:
        engine.dispose()


def test_a_table_an_older_release_kept_is_dropped(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'r.db'}")
    current = sa.Table("current_rows", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True))
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE old_rows (id INTEGER)"))
        conn.execute(sa.text("CREATE TABLE current_rows (id INTEGER, gone TEXT)"))
        conn.execute(sa.text("INSERT INTO current_rows VALUES (1, 'x')"))
        model = SimpleNamespace(tables=(current,), retired_tables=("old_rows",))
        recreate_tables(conn, model)
    assert set(sa.inspect(engine).get_table_names()) == {"current_rows"}
    assert columns(engine, "current_rows") == {"id"}
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM current_rows")).scalar() == 0
