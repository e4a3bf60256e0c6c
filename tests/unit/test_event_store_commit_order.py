"""The event store on PostgreSQL: ids commit in their order, whatever the writers' timing.

A command's events go in by one call of the store's insert function (shared/batch_tracking.py),
which takes the table's lock itself. Readers of the log (the relay, the read models) rely on
what the library's own way guarantees: once an id is visible as the head, no lower id can
commit later. Many writers at once, a reader watching: every head it saw keeps exactly the ids
it saw below it.
"""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError

from shared.eventsourced import LiangdiApplication
from shared.eventstore import eventsourcing_env, sqlalchemy_engine

WRITERS, SAVES = 6, 60


class Tally(Aggregate):
    @event("Opened")
    def __init__(self) -> None:
        self.count = 0

    @event("Counted")
    def count_up(self) -> None:
        self.count += 1


class TallyApp(LiangdiApplication):
    pass


@pytest.fixture
def app(pg_database_url: str) -> Any:
    sqlalchemy_engine(pg_database_url)  # the schema
    app = TallyApp(env=eventsourcing_env(pg_database_url))
    yield app
    app.close()


def _ids_up_to(app: Any, head: int) -> list[int]:
    return [n.id for n in app.recorder.select_notifications(1, 100_000, stop=head)]


def test_no_id_commits_below_a_head_a_reader_saw(app: Any) -> None:
    seen: list[tuple[int, list[int]]] = []
    errors: list[BaseException] = []
    writing = threading.Event()
    writing.set()

    def reader() -> None:
        while writing.is_set():
            head = app.recorder.max_notification_id() or 0
            seen.append((head, _ids_up_to(app, head)))

    def writer() -> None:
        try:
            for i in range(SAVES):
                tally = Tally()
                for _ in range(i % 3):  # saves of one, two and three events
                    tally.count_up()
                app.save(tally)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    watching = threading.Thread(target=reader)
    watching.start()
    writers = [threading.Thread(target=writer) for _ in range(WRITERS)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(120)
    writing.clear()
    watching.join(30)

    assert errors == []
    final = _ids_up_to(app, app.recorder.max_notification_id())
    events = sum(1 + i % 3 for i in range(SAVES)) * WRITERS
    assert len(final) == len(set(final)) == events
    assert len(seen) > 10, "the reader must have watched the writers"
    for head, ids in seen:
        assert ids == [i for i in final if i <= head], f"an id committed below head {head}"


def test_a_save_that_conflicts_raises_and_stores_nothing(app: Any) -> None:
    tally = Tally()
    app.save(tally)
    first, second = app.repository.get(tally.id), app.repository.get(tally.id)
    first.count_up()
    second.count_up()
    second.count_up()
    app.save(first)
    head = app.recorder.max_notification_id()
    with pytest.raises(IntegrityError):
        app.save(second)  # its first event has the version `first` took
    assert app.recorder.max_notification_id() == head
    assert app.repository.get(tally.id).count == 1


def test_the_ids_of_a_save_are_returned_in_order(app: Any) -> None:
    tally = Tally()
    tally.count_up()
    tally.count_up()
    recordings = app.save(tally)
    ids = [r.notification.id for r in recordings]
    assert ids == sorted(ids) and len(ids) == 3
    assert ids == _ids_up_to(app, app.recorder.max_notification_id())[-3:]


def test_a_save_waits_for_the_table_lock_another_writer_holds(
    app: Any, pg_database_url: str
) -> None:
    """The mechanism behind the order: the insert takes the table's EXCLUSIVE lock, as the
    library's own insert does. A ROW SHARE lock (which a plain INSERT passes) holds it up."""
    table = f'"{app.recorder.datastore.schema}"."{app.recorder.events_table_name}"'
    saved = threading.Event()
    with psycopg.connect(pg_database_url.split("?")[0]) as holder:
        holder.execute(f"LOCK TABLE {table} IN ROW SHARE MODE")
        saving = threading.Thread(target=lambda: (app.save(Tally()), saved.set()))
        saving.start()
        assert not saved.wait(1.0), "the save did not wait for the table's lock"
        holder.rollback()
    saving.join(30)
    assert saved.is_set()
