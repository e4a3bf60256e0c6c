"""Which aggregates a receiver's batch meets for the first time, asked of a large store.

A host catching up a backlog asks, for every batch, which of its members are new here
(`LiangdiApplication.absent_of`). Its store is then young and fast-growing: PostgreSQL has no
statistics of the table yet, and `originator_id = ANY(...)` was planned as a scan of the whole
table, so each batch read every event stored before it (docs/performance.md, "Ninth pass").
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import Tracking
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.eventsourced import LiangdiApplication, stored_query
from shared.eventstore import eventsourcing_env, sqlalchemy_engine
from tests.support.backends import drop_schema

STORED = 60_000  # as many members as a county's backlog: far beyond what a scan hides


class Member(Aggregate):
    @event("Registered")
    def __init__(self) -> None:
        pass


class Store(LiangdiApplication):
    pass


@pytest.fixture(scope="module")
def store(postgres_url: str) -> Any:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    pg_database_url = f"{postgres_url.split('?')[0]}?schema={schema}"
    sqlalchemy_engine(pg_database_url)  # the schema
    app = Store(env=eventsourcing_env(pg_database_url))
    recorder: Any = app.recorder
    table = f'"{recorder.datastore.schema}"."{recorder.events_table_name}"'
    with psycopg.connect(pg_database_url.split("?")[0], autocommit=True) as conn:
        # Never analysed while the test runs, as a table growing in a catch-up is not yet.
        conn.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
        conn.execute(
            f"INSERT INTO {table} (originator_id, originator_version, topic, state) "  # noqa: S608
            "SELECT gen_random_uuid(), v, 'tests:Member.Registered', '\\x7b7d'::bytea "
            "FROM generate_series(1, %s) AS n, generate_series(1, 2) AS v",
            (STORED // 2,),
        )
    app.save(*(members := [Member() for _ in range(50)]))
    yield app, [m.id for m in members], pg_database_url.split("?")[0], table
    app.close()
    drop_schema(postgres_url, schema)


def test_it_reads_the_key_not_the_table(store: Any) -> None:
    app, members, url, _ = store
    ids = [*members[:20], *(uuid.uuid4() for _ in range(100))]
    with psycopg.connect(url, autocommit=True) as conn:
        query = b"EXPLAIN " + stored_query(app.recorder).as_bytes(conn)
        plan = "\n".join(row[0] for row in conn.execute(query, (ids,)))
    assert "Seq Scan" not in plan, plan
    assert "Index" in plan, plan


@settings(max_examples=25, deadline=None)
@given(known=st.sets(st.integers(0, 49), max_size=50), new=st.integers(0, 30))
def test_the_absent_are_exactly_those_never_stored(store: Any, known: set[int], new: int) -> None:
    app, members, _, _ = store
    strangers = {uuid.uuid4() for _ in range(new)}
    assert app.absent_of({members[i] for i in known} | strangers) == strangers


@settings(max_examples=15, deadline=None)
@given(
    tracked=st.dictionaries(st.sampled_from("abcdefgh"), st.integers(1, 2**62), max_size=8),
    asked=st.sets(st.sampled_from("abcdefghij"), max_size=10),
    known=st.sets(st.integers(0, 49), max_size=20),
    new=st.integers(0, 5),
)
def test_positions_and_absent_in_one_round_trip_answer_as_each_alone(
    store: Any, tracked: dict[str, int], asked: set[str], known: set[int], new: int
) -> None:
    """A receiver's batch asks both at once; the answers are those of each query alone."""
    app, members, _, _ = store
    run = uuid.uuid4().hex[:8]  # each example its own streams (positions only move forward)
    for name, seq in tracked.items():
        app.save_tracked(Tracking(f"{run}:{name}", seq))
    names = sorted(f"{run}:{name}" for name in asked)
    ids = {members[i] for i in known} | {uuid.uuid4() for _ in range(new)}
    positions, absent = app.positions_and_absent(names, ids)
    assert positions == app.positions_of(names)
    assert positions == {f"{run}:{n}": tracked.get(n, 0) for n in asked}
    assert absent == app.absent_of(ids) == ids - set(members)
