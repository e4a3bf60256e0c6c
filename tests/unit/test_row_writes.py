"""A read model's rows sent in runs (shared/row_writes.py), on SQLite and PostgreSQL.

- Any sequence of upserts, updates and inserts leaves the tables as the same writes sent one by
  one would (a hypothesis property).
- A batch of creations costs one statement, not one per event.
- A value a table cannot hold, in the middle of a run, still halts the read model at exactly
  its event, with the rows of the events before it written and none after.
- Read models with nothing to apply in the rest of the log move on together, in one statement,
  except one that is halted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from eventsourcing.domain import Aggregate, event
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.eventsourced import LiangdiApplication
from shared.eventstore import eventsourcing_env, sqlalchemy_engine
from shared.positions import PositionStore
from shared.projection import ReadModel
from shared.read_models import ReadModelSet
from shared.row_writes import Writes, insert_row, update_row, upsert

TOO_BIG = 10**20  # no 64-bit column holds it


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'rows.db'}"
    return request.getfixturevalue("pg_database_url")


@pytest.fixture
def engine(url: str) -> Iterator[sa.Engine]:
    engine = sqlalchemy_engine(url, "row-writes-test")
    yield engine
    engine.dispose()


# -- the same state as one by one ------------------------------------------------------------

KEYS = st.sampled_from(["a", "b", "c"])
AMOUNTS = st.integers(-(2**40), 2**40)
WRITES = st.lists(
    st.one_of(
        st.tuples(st.just("upsert"), KEYS, AMOUNTS, st.booleans()),
        st.tuples(st.just("update"), KEYS, AMOUNTS, st.booleans()),
        st.tuples(st.just("insert"), KEYS, AMOUNTS, st.booleans()),
        st.tuples(st.just("read"), KEYS, AMOUNTS, st.booleans()),
    ),
    max_size=40,
)


def tables(metadata: sa.MetaData, suffix: str) -> tuple[sa.Table, sa.Table]:
    rows = sa.Table(
        f"rw_rows_{suffix}",
        metadata,
        sa.Column("key", sa.String(8), primary_key=True),
        sa.Column("amount", sa.BigInteger),
        sa.Column("flag", sa.Boolean),
    )
    log = sa.Table(
        f"rw_log_{suffix}",
        metadata,
        sa.Column("n", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(8)),
        sa.Column("amount", sa.BigInteger),
    )
    return rows, log


def play(conn: Any, rows: sa.Table, log: sa.Table, writes: list[tuple[Any, ...]]) -> list[Any]:
    """Each write in order; a read sees what the writes before it left."""
    seen = []
    for kind, key, amount, flag in writes:
        if kind == "upsert":
            values = {"amount": amount, "flag": flag} if flag else {"amount": amount}
            upsert(conn, rows, {"key": key}, values)
        elif kind == "update":
            update_row(conn, rows, {"key": key}, {"amount": amount})
        elif kind == "insert":
            insert_row(conn, log, {"key": key, "amount": amount})
        elif flag:
            seen.append(conn.execute(sa.select(rows).order_by(rows.c.key)).all())
        else:  # a read by another method of the connection
            seen.append(conn.scalar(sa.select(sa.func.count()).select_from(log)))
    return seen


def contents(conn: sa.Connection, rows: sa.Table, log: sa.Table) -> tuple[Any, Any]:
    return (
        conn.execute(sa.select(rows).order_by(rows.c.key)).all(),
        conn.execute(sa.select(log.c.key, log.c.amount).order_by(log.c.n)).all(),
    )


def test_runs_leave_the_state_of_the_writes_one_by_one(engine: sa.Engine) -> None:
    metadata = sa.MetaData()
    one_by_one, in_runs = tables(metadata, "a"), tables(metadata, "b")
    metadata.create_all(engine)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(WRITES)
    def check(writes: list[tuple[Any, ...]]) -> None:
        with engine.begin() as conn:
            for table in (*one_by_one, *in_runs):
                conn.execute(table.delete())
            seen_alone = play(conn, *one_by_one, writes)
            batch = Writes(conn)
            seen_in_runs = play(batch, *in_runs, writes)
            batch.flush()
            assert seen_in_runs == seen_alone  # every read saw the writes before it
            assert contents(conn, *in_runs) == contents(conn, *one_by_one)

    check()


# -- a read model's batch --------------------------------------------------------------------


class Tally(Aggregate):
    @event("Opened")
    def __init__(self, amount: int) -> None:
        self.amount = amount


class Tallies(LiangdiApplication):
    pass


metadata = sa.MetaData()
tallies = sa.Table(
    "rw_tallies",
    metadata,
    sa.Column("tally_id", sa.String(40), primary_key=True),
    sa.Column("amount", sa.BigInteger),
)


class TallyRows(ReadModel):
    name = "tallies"
    tables = (tallies,)
    handles = (Tally.Event,)

    def handle(self, conn: Any, event: Any) -> None:
        upsert(conn, tallies, {"tally_id": str(event.originator_id)}, {"amount": event.amount})


class Note(Aggregate):
    @event("Written")
    def __init__(self, length: int) -> None:
        self.length = length


def note_rows(n: int, length: Any) -> type[ReadModel]:
    """A read model of notes, of which the tallies' events concern none."""
    table = sa.Table(
        f"rw_notes_{n}",
        metadata,
        sa.Column("note_id", sa.String(40), primary_key=True),
        sa.Column("length", length),
    )

    class NoteRows(ReadModel):
        name = f"notes{n}"
        tables = (table,)
        handles = (Note.Event,)

        def handle(self, conn: Any, event: Any) -> None:
            upsert(conn, table, {"note_id": str(event.originator_id)}, {"length": event.length})

    return NoteRows


# notes0 and notes1 cannot hold TOO_BIG; notes2 and notes3 can.
NOTE_ROWS = [note_rows(n, sa.BigInteger if n < 2 else sa.Numeric(30)) for n in range(4)]


def place(
    url: str, engine: sa.Engine, models: list[type[ReadModel]] | None = None
) -> tuple[Tallies, ReadModelSet]:
    app = Tallies(env=eventsourcing_env(url))
    models = models or [TallyRows]
    return app, ReadModelSet(app, engine, PositionStore(engine), "rows", models)


def statements_on(engine: sa.Engine, table: str, verb: str = "INSERT") -> list[int]:
    """Counts the statements `verb` on `table` (an executemany counts once)."""
    sent: list[int] = []

    @sa.event.listens_for(engine, "before_cursor_execute")
    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith(verb) and table in statement:
            sent.append(1)

    return sent


def test_a_batch_of_creations_is_one_statement(url: str, engine: sa.Engine) -> None:
    app, read_models = place(url, engine)
    try:
        app.save(*[Tally(n) for n in range(15)])
        sent = statements_on(engine, "rw_tallies")
        read_models.catch_up()
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(tallies)).scalar() == 15
        assert len(sent) == 1, sent
    finally:
        app.close()


def test_a_value_no_table_holds_halts_at_its_own_event_in_the_middle_of_a_run(
    url: str, engine: sa.Engine
) -> None:
    app, read_models = place(url, engine)
    try:
        made = [Tally(TOO_BIG if n == 9 else n) for n in range(15)]
        app.save(*made)
        read_models.catch_up()
        halted = read_models.halted_all()
        assert len(halted) == 1
        assert halted[0]["originator_id"] == str(made[9].id)
        with engine.connect() as conn:
            stored = {row.tally_id for row in conn.execute(sa.select(tallies.c.tally_id))}
        assert stored == {str(t.id) for t in made[:9]}  # those before it, and none after
        status = next(s for s in read_models.status() if s["name"] == "tallies")
        assert status["position"] == halted[0]["position"] - 1
    finally:
        app.close()


def test_read_models_with_nothing_to_apply_move_on_together(url: str, engine: sa.Engine) -> None:
    app, read_models = place(url, engine, [TallyRows, *NOTE_ROWS])
    try:
        app.save(Note(1), Note(TOO_BIG))
        read_models.catch_up()  # notes0 and notes1 halt at the second note
        app.save(Tally(1), Note(2))
        read_models.catch_up()
        read_models.retry(read_models.get("notes1"), "test", "retried")  # halts again
        halted_at = {h["read_model"]: h["position"] for h in read_models.halted_all()}
        assert halted_at == {"notes0": 2, "notes1": 2}

        moves = statements_on(engine, "liangdi_positions", "UPDATE")
        app.save(*[Tally(n) for n in range(10)])  # only the tallies have something to apply
        read_models.catch_up()
        assert len(moves) == 2, moves  # the tallies' own; notes2 and notes3 together
        head = read_models.head()
        status = {s["name"]: s for s in read_models.status()}
        assert {status[n]["position"] for n in ("tallies", "notes2", "notes3")} == {head}
        assert status["notes0"]["position"] == status["notes1"]["position"] == 1  # halted
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(tallies)).scalar() == 11
    finally:
        app.close()
