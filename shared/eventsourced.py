"""The eventsourcing Application base every liangdi service builds on."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from copy import deepcopy
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
    Repository,
)
from eventsourcing.persistence import (
    ConnectionPool,
    IntegrityError,
    JSONTranscoder,
    Notification,
    ProcessRecorder,
    Recording,
    StoredEvent,
    Tracking,
    Transcoding,
)

log = logging.getLogger(__name__)

# How long closing waits for threads still inside the store (a catch-up, a receiver's batch).
CLOSE_WAIT_SECONDS = 15.0


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


# Aggregates with more events than this are read from their snapshot (the members' interval is
# 50) by the repository, not replayed from their first event by a read of many at once.
SHORT_HISTORY = 50


class CachingRepository(Repository[UUID]):
    """The library's repository with its aggregate cache (`AGGREGATE_CACHE_MAXSIZE`), each
    aggregate brought up to date from the store on every read and handed out as a copy.

    The library fast-forwards a cached aggregate under a lock of its own but copies it after
    releasing that lock, so a concurrent read could copy it half moved on. Here both happen
    under one lock per stripe of aggregates. A read at a given version never uses the cache.
    """

    STRIPES = 64

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._stripes = [threading.Lock() for _ in range(self.STRIPES)]
        self._batch = threading.local()

    @contextmanager
    def batch(
        self, aggregates: dict[UUID, Any], absent: set[UUID], known: dict[UUID, Any] | None = None
    ) -> Iterator[None]:
        """Within it, this thread reads `aggregates` (changed, not yet saved) before the store,
        then `known` (read from the store for the batch already), and takes the ids in `absent`
        (known to have no events) for not found without asking.

        Applying a batch of facts: each sees what the earlier ones changed, as if each had been
        saved, and a refused fact leaves the batch's copies untouched. An aggregate another
        writer creates or changes meanwhile makes the batch's save conflict, so it is decided
        again.
        """
        self._batch.aggregates, self._batch.absent = aggregates, absent
        self._batch.known = known or {}
        try:
            yield
        finally:
            self._batch.aggregates = self._batch.absent = self._batch.known = None

    def get(self, aggregate_id: UUID, *, version: int | None = None, **kwargs: Any) -> Any:
        batch = getattr(self._batch, "aggregates", None)
        if batch is not None and version is None:
            if aggregate_id in batch:
                return deepcopy(batch[aggregate_id])
            if aggregate_id in self._batch.known:
                return deepcopy(self._batch.known[aggregate_id])
            if aggregate_id in self._batch.absent:
                raise AggregateNotFoundError(aggregate_id)
            try:
                return self._get(aggregate_id, version, **kwargs)
            except AggregateNotFoundError:
                self._batch.absent.add(aggregate_id)
                raise
        return self._get(aggregate_id, version, **kwargs)

    def _get(self, aggregate_id: UUID, version: int | None, **kwargs: Any) -> Any:
        if self.cache is None or version is not None:
            return super().get(aggregate_id, version=version, **kwargs)
        with self._stripes[hash(aggregate_id) % self.STRIPES]:
            return super().get(aggregate_id, version=version, **kwargs)


class LiangdiApplication(Application[UUID]):
    """An Application whose recorder also keeps tracking records.

    Facts arriving from the other place are saved together with the position they came from,
    in one transaction, so a redelivered message can never apply twice.
    """

    def close(self) -> None:
        """Closes the store once no thread is inside it any more.

        The library's SQLite pool also closes the connections still in use, and SQLite then
        crashes the whole process in the thread using it (a read model's catch-up cut off at
        shutdown did). Waiting and closing happen under the pool's own lock, so no thread takes
        a connection in between. A thread still inside after `CLOSE_WAIT_SECONDS` keeps its
        connection: the process is ending, and the connection ends with it.
        """
        pool = getattr(getattr(self.recorder, "datastore", None), "pool", None)
        if not isinstance(pool, ConnectionPool):  # PostgreSQL's pool waits for its own
            super().close()
            return
        with pool._put_condition:  # the lock every take and return of a connection holds
            deadline = time.monotonic() + CLOSE_WAIT_SECONDS
            while pool.num_in_use and time.monotonic() < deadline:
                pool._put_condition.wait(timeout=0.05)
            if pool.num_in_use:
                log.warning("store left open: %d connection(s) still in use", pool.num_in_use)
                self.closing.set()
                return
            super().close()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def construct_repository(self) -> Repository[UUID]:
        """The library's repository (same settings), with its cache made safe to share."""
        plain = super().construct_repository()
        size = self.env.get(self.AGGREGATE_CACHE_MAXSIZE)
        return CachingRepository(
            event_store=plain.event_store,
            snapshot_store=plain.snapshot_store,
            cache_maxsize=int(size) if size else None,
            fastforward=True,  # every read sees what other writers (instances) stored since
            deepcopy_from_cache=True,  # callers change what they get; the cache must not see it
        )

    def construct_recorder(self) -> ProcessRecorder:  # type: ignore[override]
        return self.factory.process_recorder()

    @property
    def process_recorder(self) -> ProcessRecorder:
        assert isinstance(self.recorder, ProcessRecorder)
        return self.recorder

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        try:
            return self._write(processing_event)
        except IntegrityError:
            # The library writes again when the database session is lost mid-write (`@retry`
            # on `insert_events`). If the lost session had committed, the second write meets
            # this very write's events: it happened, and its caller must not be refused.
            recordings = self._recorded_already(processing_event.events)
            if recordings is None:
                raise
            return recordings

    def _write(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        """Stores a save's events (and tracking) in one transaction, as the library does."""
        return super()._record(processing_event)

    def _recorded_already(self, events: Any) -> list[Recording[UUID]] | None:
        """The recordings of `events` if every one of them is the stored event at its version
        (equal in every field, its timestamp included), else None: the conflict was another
        writer's."""
        stored = []
        for event in events:
            version = event.originator_version
            found = self.recorder.select_events(event.originator_id, gt=version - 1, lte=version)
            if not found or self.mapper.to_domain_event(found[0]) != event:
                return None
            stored.append(found[0])
        if not stored:
            return None
        # Its notification ids are not asked for: the log's head is at or after them, which is
        # all read-your-writes needs.
        head = self.recorder.max_notification_id() or 0
        return [
            Recording(
                event,
                Notification(
                    originator_id=s.originator_id,
                    originator_version=s.originator_version,
                    topic=s.topic,
                    state=s.state,
                    id=head,
                ),
            )
            for event, s in zip(events, stored, strict=True)
        ]

    def save_tracked(self, tracking: Tracking, *objs: Any) -> list[Recording[UUID]]:
        """Saves the aggregates' new events and `tracking` atomically."""
        processing_event: ProcessingEvent[UUID] = ProcessingEvent(tracking=tracking)
        processing_event.collect_events(*objs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        return recordings

    def save_tracked_many(
        self, processing_event: ProcessingEvent[UUID], trackings: list[Tracking]
    ) -> None:
        """Saves a batch's collected events and every member stream's position atomically."""
        processing_event.saved_kwargs["trackings"] = trackings
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)

    def position_of(self, tracking_name: str) -> int:
        return self.process_recorder.max_tracking_id(tracking_name) or 0

    def absent_of(self, ids: set[UUID]) -> set[UUID]:
        """Which of these aggregates have no stored event, in one query.

        On PostgreSQL each id is looked up in the table's primary key (a semi-join over the
        ids). `originator_id = ANY(...)` is planned as a scan of the whole table while the
        table has no statistics yet, as in a host's first catch-up: every batch then read the
        whole store, slower with every fact (docs/performance.md, "Ninth pass"). The query
        returns those found, usually few: in a catch-up most are new, and reading them all
        back cost more than finding them (docs/performance.md, "Tenth pass")."""
        return self.positions_and_absent([], ids)[1]

    def positions_and_absent(
        self, names: list[str], ids: set[UUID]
    ) -> tuple[dict[str, int], set[UUID]]:
        """`positions_of(names)` and `absent_of(ids)` at once: on PostgreSQL both queries go
        in one round trip (a receiver's batch asks both before it decides anything)."""
        recorder: Any = self.recorder
        if not hasattr(recorder, "tracking_table_name"):  # SQLite: one after the other
            stored_ids = {row[0] for row in self._rows_of(ids, "DISTINCT originator_id")}
            return self.positions_of(names), ids - stored_ids
        found = dict.fromkeys(names, 0)
        if not names and not ids:
            return found, set()
        stored: set[UUID] = set()
        with recorder.datastore.transaction(commit=False) as curs, curs.connection.pipeline():
            if names:
                curs.execute(tracked_query(recorder, "= ANY(%b)"), (list(found),))
            ids_cursor = curs.connection.cursor()
            if ids:
                ids_cursor.execute(stored_query(recorder), (list(ids),))
            if names:
                found |= {row["application_name"]: int(row["seq"]) for row in curs.fetchall()}
            if ids:
                stored = {row["id"] for row in ids_cursor.fetchall()}
        return found, ids - stored

    def stored_events_of(self, ids: set[UUID], up_to: int) -> list[StoredEvent]:
        """The stored events of these aggregates up to a version, in one query, by aggregate
        and version (what `repository.get` reads for one aggregate, for many at once)."""
        rows = self._rows_of(
            ids,
            "originator_id, originator_version, topic, state",
            " AND originator_version <= %s ORDER BY originator_id, originator_version",
            (up_to,),
        )
        return [StoredEvent(i, version, topic, bytes(state)) for i, version, topic, state in rows]

    def _rows_of(
        self, ids: set[UUID], columns: str, tail: str = "", args: tuple[Any, ...] = ()
    ) -> list[tuple[Any, ...]]:
        """Rows of the event store's table for these aggregates, in one query, the aggregate's
        id first (a UUID on either backend); `tail` narrows and orders them (`%s` for `args`).
        The library names the table per backend, and SQLite keeps ids as hex text."""
        if not ids:
            return []
        recorder: Any = self.recorder
        if hasattr(recorder, "tracking_table_name"):  # PostgreSQL
            from psycopg.sql import SQL, Identifier

            query = SQL(
                "SELECT " + columns + " FROM {0}.{1} WHERE originator_id = ANY(%s)" + tail
            ).format(Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))
            with recorder.datastore.transaction(commit=False) as curs:
                curs.execute(query, (list(ids), *args))
                return [tuple(row.values()) for row in curs.fetchall()]
        marks = ",".join("?" * len(ids))
        with recorder.datastore.transaction(commit=False) as curs:
            curs.execute(
                f"SELECT {columns} FROM {recorder.events_table_name} "  # noqa: S608
                f"WHERE originator_id IN ({marks}){tail.replace('%s', '?')}",
                [*(i.hex for i in ids), *args],
            )
            return [(UUID(row[0]), *row[1:]) for row in curs.fetchall()]

    def replayed(self, versions: dict[UUID, int]) -> dict[UUID, Any]:
        """Aggregates replayed from their stored events up to the given versions (lower where
        fewer are stored), all in one query: what `repository.get` reads for one aggregate, for
        many at once, without snapshots (for short histories). One whose events cannot be
        replayed is left out, for the repository to read and tell why."""
        if not versions:
            return {}
        built: dict[UUID, Any] = {}
        for record in self.stored_events_of(set(versions), max(versions.values())):
            i = record.originator_id
            if record.originator_version > versions[i] or (i in built and built[i] is None):
                continue
            try:
                built[i] = self.mapper.to_domain_event(record).mutate(built.get(i))
            except Exception:  # left to the repository, which raises it where it matters
                built[i] = None
        return {i: aggregate for i, aggregate in built.items() if aggregate is not None}

    def short_histories(self, ids: set[UUID]) -> dict[UUID, Any]:
        """The current state of those of these aggregates with at most `SHORT_HISTORY` events,
        in one query; the others (longer, or unreadable) are for the repository and its
        snapshots. Never raises: a batch that cannot read ahead reads one by one."""
        if not ids:
            return {}
        try:
            found = self.replayed(dict.fromkeys(ids, SHORT_HISTORY + 1))
        except Exception:
            log.debug("aggregates not read ahead", exc_info=True)
            return {}
        return {
            i: aggregate for i, aggregate in found.items() if aggregate.version <= SHORT_HISTORY
        }

    def positions_of(self, names: list[str]) -> dict[str, int]:
        """Each tracking name's position (0 if none), in one query."""
        found = dict.fromkeys(names, 0)
        if names:
            marks = ",".join("?" * len(found))
            found |= self._tracked("= ANY(%b)", f"IN ({marks})", [list(found)], list(found))
        return found

    def positions_with_prefix(self, prefix: str) -> dict[str, int]:
        """Every tracking record whose name starts with `prefix`: name -> position."""
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        like = "LIKE %s ESCAPE '\\'"
        return self._tracked(like, like.replace("%s", "?"), [pattern], [pattern])

    def _tracked(
        self, postgres_test: str, sqlite_test: str, postgres_args: list[Any], sqlite_args: list[Any]
    ) -> dict[str, int]:
        """name -> position of the tracking records whose name passes the test, in one query.

        Read through the recorder's own datastore: the tracking table lives in the event store
        (with SQLite, not in the read models' sibling file) and the library names it per backend
        (`tracking` in SQLite, `<application>_tracking` in the PostgreSQL schema).
        """
        recorder: Any = self.recorder
        if hasattr(recorder, "tracking_table_name"):  # PostgreSQL
            with recorder.datastore.transaction(commit=False) as curs:
                curs.execute(tracked_query(recorder, postgres_test), postgres_args)
                return {row["application_name"]: int(row["seq"]) for row in curs.fetchall()}
        with recorder.datastore.transaction(commit=False) as curs:
            test = f"WHERE application_name {sqlite_test} GROUP BY application_name"
            curs.execute(f"{_TRACKED}tracking {test}", sqlite_args)
            return {name: int(seq) for name, seq in curs.fetchall()}


_TRACKED = "SELECT application_name, MAX(notification_id) AS seq FROM "


def tracked_query(recorder: Any, test: str) -> Any:
    """The positions of the tracking records whose name passes `test`, on PostgreSQL."""
    from psycopg.sql import SQL, Identifier

    return SQL(
        _TRACKED + "{0}.{1} WHERE application_name " + test + " GROUP BY application_name"  # noqa: S608
    ).format(Identifier(recorder.datastore.schema), Identifier(recorder.tracking_table_name))


def stored_query(recorder: Any) -> Any:
    """`LiangdiApplication.absent_of`'s query on PostgreSQL: of the ids given, those with an
    event, each looked up in the primary key."""
    from psycopg.sql import SQL, Identifier

    return SQL(
        "SELECT id FROM unnest(%b::{2}[]) AS id "
        "WHERE EXISTS (SELECT FROM {0}.{1} WHERE originator_id = id)"
    ).format(
        Identifier(recorder.datastore.schema),
        Identifier(recorder.events_table_name),
        Identifier(recorder.datastore.originator_id_type),
    )
