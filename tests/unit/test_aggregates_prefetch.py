"""`AggregatesAt.prefetch`: the aggregates a batch of the log will be asked for, brought in step
in one query (SQLite and PostgreSQL), so a reader of the log never reads them one by one, and
sees each exactly as the repository would at that version, whatever the interleaving."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.domain import Aggregate, event
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.eventsourced import SHORT_HISTORY, LiangdiApplication
from shared.eventstore import eventsourcing_env, sqlalchemy_engine
from shared.projection import AggregatesAt
from tests.support.backends import each_store


class Tally(Aggregate):
    @event("Opened")
    def __init__(self, label: str) -> None:
        self.label, self.marks = label, []

    @event("Marked")
    def mark(self, n: int) -> None:
        self.marks.append(n)


class TallyApp(LiangdiApplication):
    pass


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    app = TallyApp(env=eventsourcing_env(each_store(request, tmp_path_factory, "prefetch")))
    yield app
    app.close()


# Which of six aggregates each write goes to; each write a new event of it.
WRITES = st.lists(st.integers(0, 5), min_size=1, max_size=60)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(writes=WRITES, batch=st.integers(1, 6), asked=st.sets(st.integers(0, 5)))
def test_a_reader_in_batches_sees_each_version_and_never_reads_alone(
    app: Any, writes: list[int], batch: int, asked: set[int]
) -> None:
    tallies = [Tally(label=f"t{i}") for i in range(6)]
    for n, which in enumerate(writes):
        if n:  # the first write only opens them all
            tallies[which].mark(n)
        app.save(tallies[which] if n else tallies[0], *([] if n else tallies[1:]))
    ids = {t.id for t in tallies}
    log = [
        app.mapper.to_domain_event(notification)
        for notification in app.recorder.select_notifications(start=1, limit=10_000)
    ]
    log = [e for e in log if e.originator_id in ids]
    wanted = {tallies[i].id for i in asked}

    # A reader that keeps one aggregate at most: every other one falls out between batches.
    reader = AggregatesAt(app, size=max(batch, 1))
    reader._asked = True  # it has asked before (a reader's first ask is its own)
    alone: list[Any] = []
    real_get = app.repository.get
    app.repository.get = lambda *a, **k: alone.append(a) or real_get(*a, **k)
    try:
        for start in range(0, len(log), batch):
            events = log[start : start + batch]
            reader.prefetch(events, lambda e: e.originator_id in wanted)
            for e in events:
                if e.originator_id in wanted:
                    seen = reader(e)
                    expected = real_get(e.originator_id, version=e.originator_version)
                    assert (seen.version, seen.label, seen.marks) == (
                        expected.version,
                        expected.label,
                        expected.marks,
                    )
                else:
                    reader.observe(e)
    finally:
        app.repository.get = real_get
    assert alone == [], f"{len(alone)} aggregates read one by one"


def _one_marked(tmp_path: Path) -> tuple[Any, Any]:
    """An app on SQLite with one tally marked once, and that mark as read from the log."""
    url = f"sqlite:///{tmp_path / 'tally.db'}"
    sqlalchemy_engine(url)
    app = TallyApp(env=eventsourcing_env(url))
    tally = Tally(label="x")
    tally.mark(1)
    app.save(tally)
    return app, app.mapper.to_domain_event(app.recorder.select_notifications(start=1, limit=9)[-1])


def test_nothing_is_fetched_for_a_reader_that_never_asked(tmp_path: Path) -> None:
    app, marked = _one_marked(tmp_path)
    fetched: list[Any] = []
    app.stored_events_of = lambda *a: fetched.append(a) or []  # type: ignore[method-assign]
    reader = AggregatesAt(app)
    reader.prefetch([marked])
    assert fetched == []  # a read model whose handlers never ask costs no query
    reader(marked)  # asked once (read alone)
    reader._kept.clear()
    reader.prefetch([marked])
    assert len(fetched) == 1
    app.close()


def test_a_prefetch_that_fails_leaves_the_reads_to_the_reader(tmp_path: Path) -> None:
    app, marked = _one_marked(tmp_path)

    def unreachable(*args: Any) -> list[Any]:
        raise RuntimeError("the store went away")

    app.stored_events_of = unreachable  # type: ignore[method-assign]
    reader = AggregatesAt(app)
    reader._asked = True
    reader.prefetch([marked])  # best effort: no error here
    assert reader(marked).marks == [1]  # read alone, as before prefetching
    app.close()


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lengths=st.lists(st.integers(1, 56), min_size=1, max_size=5))
def test_short_histories_are_the_repositorys_and_long_ones_are_left_to_it(
    app: Any, lengths: list[int]
) -> None:
    tallies = []
    for length in lengths:
        tally = Tally(label=f"n{length}")
        for n in range(length - 1):
            tally.mark(n)
        app.save(tally)
        tallies.append(tally)
    ids = {t.id for t in tallies}
    found = app.short_histories(ids | {uuid4()})  # one that does not exist: left out
    assert set(found) == {t.id for t in tallies if t.version <= SHORT_HISTORY}
    for i, aggregate in found.items():
        stored = app.repository.get(i)
        assert (aggregate.version, aggregate.marks) == (stored.version, stored.marks)
