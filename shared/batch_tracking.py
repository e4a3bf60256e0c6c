"""Process recorders that record many tracking positions in one transaction.

The receiver applies a batch of facts from the other place in one transaction: the events of all
of them and the position of each member's stream they came from (one tracking record per member
stream) commit together or not at all. The library's process recorder takes one `tracking` per
insert; these take `trackings` too, inserted by the library's own statement in the same
transaction (before the events, as the library does with its one tracking record).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    StoredEvent,
    Tracking,
)
from eventsourcing.postgres import PostgresProcessRecorder
from eventsourcing.sqlite import SQLiteProcessRecorder
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier


class _ManyTrackings:
    def _insert_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        trackings: Sequence[Tracking] = kwargs.get("trackings", ())
        for tracking in trackings:
            self._insert_tracking(curs, tracking)  # type: ignore[attr-defined]
        return super()._insert_events(curs, stored_events, **kwargs)  # type: ignore[misc]


class PostgresBatchProcessRecorder(_ManyTrackings, PostgresProcessRecorder):
    """With the library's single-row tracking (one row per stream, moved only forward), a
    batch's positions are written by one statement instead of a round trip each: the last
    position per stream, each only over a lower one. A stream another writer moved meanwhile
    returns no row, which fails the batch like the library's own check (`IntegrityError`).

    The events go in as four arrays, one per column, where the library sends one array of its
    composite type: psycopg dumps such an array value by value in Python (a fifth of a host's
    receiver under load), a typed array in C. Same table, lock, notification and ids. The arrays
    go in PostgreSQL's binary format (`%b`): in text, psycopg quotes and escapes every value in
    Python, about 30 ms for a batch of 375 events against under 1 ms (docs/performance.md,
    "Ninth pass").

    Events without trackings (the offices' commands) go in by one call of a function of the
    store, in one round trip and one implicit transaction: the table's lock, the notification,
    the insert, the commit. The library's way holds the lock from the insert's answer until
    the client sends its commit, which under load waits for this process's interpreter, and
    every other writer of the store queues behind it (docs/performance.md, "Eighth pass").
    The same lock as the library's, so ids still commit in their order.
    """

    def __init__(self, datastore: Any, **kwargs: Any):
        super().__init__(datastore, **kwargs)
        self._insert_columns = SQL(
            "INSERT INTO {0}.{1} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%b::{2}[], %b::bigint[], %b::text[], %b::bytea[]) "
            "RETURNING notification_id"
        ).format(
            Identifier(datastore.schema),
            Identifier(self.events_table_name),
            Identifier(datastore.originator_id_type),
        )
        function = Identifier(f"{self.events_table_name}_insert"[:63])
        self.sql_create_statements.append(
            SQL(
                "CREATE OR REPLACE FUNCTION {schema}.{function}("
                "ids {type}[], versions bigint[], topics text[], states bytea[]) "
                "RETURNS SETOF bigint LANGUAGE plpgsql AS $BODY$ BEGIN "
                "SET LOCAL lock_timeout = '{timeout}s'; "
                "LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE; "
                "NOTIFY {channel}; "
                "RETURN QUERY INSERT INTO {schema}.{table} "
                "(originator_id, originator_version, topic, state) "
                "SELECT * FROM unnest(ids, versions, topics, states) "
                "RETURNING notification_id; "
                "END; $BODY$"
            ).format(
                schema=Identifier(datastore.schema),
                function=function,
                type=Identifier(datastore.originator_id_type),
                timeout=SQL(str(datastore.lock_timeout)),
                table=Identifier(self.events_table_name),
                channel=Identifier(self.channel_name),
            )
        )
        self._call_insert = SQL(
            "SELECT id FROM {0}.{1}(%b::{2}[], %b::bigint[], %b::text[], %b::bytea[]) AS id"
        ).format(Identifier(datastore.schema), function, Identifier(datastore.originator_id_type))

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if not stored_events or kwargs.get("tracking") or kwargs.get("trackings"):
            return super().insert_events(stored_events, **kwargs)  # retried by the library
        return self._insert_untracked(stored_events)

    # As the library retries its own insert: a lost session is written again, and a write
    # that did commit then meets its own events (LiangdiApplication tells it from a conflict).
    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def _insert_untracked(self, stored_events: Sequence[StoredEvent]) -> list[int]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            return self._insert_in_one_call(curs, stored_events)

    def _insert_in_one_call(self, curs: Any, stored_events: Sequence[StoredEvent]) -> list[int]:
        curs.execute(self._call_insert, _columns(stored_events), prepare=True)
        return [row["id"] for row in curs.fetchall()]

    def _insert_stored_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **_: Any
    ) -> None:
        self._lock_table(curs)
        self._notify_channel(curs)
        curs.execute(self._insert_columns, _columns(stored_events), prepare=True)

    def _insert_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        trackings: Sequence[Tracking] = kwargs.get("trackings", ())
        if len(trackings) > 1 and self.datastore.single_row_tracking:
            self._insert_last_positions(curs, trackings)
            kwargs = {**kwargs, "trackings": ()}
        return super()._insert_events(curs, stored_events, **kwargs)

    def _insert_last_positions(self, curs: Any, trackings: Sequence[Tracking]) -> None:
        last: dict[str, int] = {}
        for tracking in trackings:
            last[tracking.application_name] = max(
                last.get(tracking.application_name, 0), tracking.notification_id
            )
        table = SQL("{0}.{1}").format(
            Identifier(self.datastore.schema), Identifier(self.tracking_table_name)
        )
        curs.execute(
            SQL(
                "INSERT INTO {0} (application_name, notification_id) "
                "SELECT * FROM unnest(%b::text[], %b::bigint[]) "
                "ON CONFLICT (application_name) DO UPDATE "
                "SET notification_id = EXCLUDED.notification_id "
                "WHERE {0}.notification_id < EXCLUDED.notification_id "
                "RETURNING application_name"
            ).format(table),
            (list(last), list(last.values())),
        )
        if len(curs.fetchall()) != len(last):
            raise IntegrityError("a stream's position moved meanwhile; the batch is decided again")


def _columns(stored_events: Sequence[StoredEvent]) -> list[list[Any]]:
    return [
        [event.originator_id for event in stored_events],
        [event.originator_version for event in stored_events],
        [event.topic for event in stored_events],
        [event.state for event in stored_events],
    ]


class SQLiteBatchProcessRecorder(_ManyTrackings, SQLiteProcessRecorder):
    pass


def recorder_topic(postgres: bool) -> str:
    """The library's `PROCESS_RECORDER_TOPIC` for the backend."""
    cls = PostgresBatchProcessRecorder if postgres else SQLiteBatchProcessRecorder
    return f"{__name__}:{cls.__qualname__}"
