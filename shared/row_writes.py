"""The rows a read model writes during a batch, sent to the database in runs.

A read model used to send a statement per event, each a round trip and a compilation. Within a
batch, the writes nothing reads back (`upsert`, `update_row`, `insert_row`) now wait in order,
and consecutive writes of the same shape (the same table, key and columns) go as one
`executemany`: psycopg sends those in one pipeline, SQLAlchemy folds inserts into multi-row
`VALUES`. Any other statement of a handler (a read, an update by an expression) first sends what
waits, so every statement still sees the rows of the events before it.

A run that fails names no event: the read model then applies the same batch again event by
event (`deferred=False`), which finds the event a table cannot hold and halts there, as before
(shared/read_models.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from eventsourcing import persistence as es
from sqlalchemy.dialects import postgresql, sqlite

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def dialect_insert(conn: sa.Connection, table: sa.Table) -> Any:
    """The backend's `INSERT` with `ON CONFLICT` (both PostgreSQL and SQLite have it)."""
    return _INSERTS[conn.dialect.name](table)


# Errors of the database or the connection, not of the event: retried, never a halt.
TRANSIENT = (
    sa.exc.OperationalError,
    sa.exc.InterfaceError,
    sa.exc.TimeoutError,
    es.OperationalError,
    es.InterfaceError,
)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, TRANSIENT)


class WritesFailed(Exception):
    """A run of waiting writes failed, and which event's row it was is not known."""


class _Run:
    """Consecutive writes of one shape: one statement, many rows."""

    def __init__(self, kind: str, table: sa.Table, keys: Sequence[str], columns: Sequence[str]):
        self.kind, self.table = kind, table
        self.keys, self.columns = tuple(keys), tuple(columns)
        # Upserts by key: a later row of the same key replaces the earlier one (same columns,
        # so the outcome is the one of both in order), and one statement never meets a key
        # twice, which PostgreSQL's ON CONFLICT DO UPDATE refuses.
        self.by_key: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.rows: list[dict[str, Any]] = []

    def __len__(self) -> int:
        return len(self.by_key) + len(self.rows)

    def shape(self) -> tuple[Any, ...]:
        return self.kind, self.table.name, self.keys, self.columns

    def add(self, key: dict[str, Any], values: dict[str, Any]) -> None:
        if self.kind == "upsert":
            self.by_key[tuple(key.values())] = key | values
        elif self.kind == "update":
            self.rows.append(
                {f"k_{k}": v for k, v in key.items()} | {f"v_{c}": v for c, v in values.items()}
            )
        else:
            self.rows.append(values)

    def send(self, conn: sa.Connection) -> None:
        rows = list(self.by_key.values()) if self.kind == "upsert" else self.rows
        statement = _statement(conn.dialect.name, self.kind, self.table, self.keys, self.columns)
        conn.execute(statement, rows)


@lru_cache(maxsize=1024)
def _statement(
    dialect: str, kind: str, table: sa.Table, keys: tuple[str, ...], columns: tuple[str, ...]
) -> Any:
    """A run's statement, built once per shape: a new one each time was built, and its cache
    key worked out, for every batch of every read model (docs/performance.md, "Tenth pass")."""
    if kind == "upsert":
        insert = _INSERTS[dialect](table)
        if not columns:
            return insert.on_conflict_do_nothing(index_elements=list(keys))
        return insert.on_conflict_do_update(
            index_elements=list(keys), set_={c: insert.excluded[c] for c in columns}
        )
    if kind == "update":
        where = sa.and_(*(table.c[k] == sa.bindparam(f"k_{k}") for k in keys))
        return table.update().where(where).values({c: sa.bindparam(f"v_{c}") for c in columns})
    return table.insert()


class Writes:
    """A read model's connection for one batch: its writes wait (when `deferred`), the rest
    passes through after them. Handlers use it as they used the connection."""

    def __init__(self, conn: sa.Connection, deferred: bool = True):
        self.conn, self.deferred = conn, deferred
        self._runs: list[_Run] = []

    def __getattr__(self, name: str) -> Any:
        """The rest of the connection; a method of it (`scalar`, `scalars`, a savepoint) is
        taken after what waits is sent, as `execute` is."""
        found = getattr(self.conn, name)
        if callable(found):
            self.flush()
        return found

    def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        self.flush()
        return self.conn.execute(statement, *args, **kwargs)

    def write(
        self, kind: str, table: sa.Table, key: dict[str, Any], values: dict[str, Any]
    ) -> None:
        if kind == "update" and not values:
            return
        run = self._runs[-1] if self._runs else None
        shape = (kind, table.name, tuple(key), tuple(values))
        if run is None or run.shape() != shape:
            run = _Run(kind, table, tuple(key), tuple(values))
            self._runs.append(run)
        run.add(key, values)
        if not self.deferred:
            self.flush()

    def flush(self) -> None:
        """Sends what waits, in order. Deferred, a failure other than the database's own
        (transient) is a `WritesFailed`: the caller applies the batch again event by event."""
        runs, self._runs = self._runs, []
        for run in runs:
            try:
                run.send(self.conn)
            except Exception as exc:
                if not self.deferred or is_transient(exc):
                    raise
                # No parameters in the message: they may hold personal data.
                raise WritesFailed(f"{run.kind} of {len(run)} row(s) in {run.table.name}") from exc


def _writes(conn: sa.Connection | Writes) -> Writes:
    return conn if isinstance(conn, Writes) else Writes(conn, deferred=False)


def upsert(
    conn: sa.Connection | Writes, table: sa.Table, key: dict[str, Any], values: dict[str, Any]
) -> None:
    """Updates the row with `key`, inserting it when absent (portable across SQLite/PostgreSQL).

    One statement (`INSERT … ON CONFLICT DO UPDATE`, both backends have it) when `key` is the
    table's primary key, waiting in a read model's batch; otherwise an update, then an insert if
    it found no row."""
    if set(key) == {c.name for c in table.primary_key.columns} and conn.dialect.name in _INSERTS:
        _writes(conn).write("upsert", table, key, values)
        return
    where = sa.and_(*(table.c[name] == value for name, value in key.items()))
    if conn.execute(table.update().where(where).values(**values)).rowcount == 0:
        conn.execute(table.insert().values(**key, **values))


def update_row(
    conn: sa.Connection | Writes, table: sa.Table, key: dict[str, Any], values: dict[str, Any]
) -> None:
    """Sets `values` on the row with `key` (no such row: nothing happens)."""
    _writes(conn).write("update", table, key, values)


def insert_row(conn: sa.Connection | Writes, table: sa.Table, values: dict[str, Any]) -> None:
    _writes(conn).write("insert", table, {}, values)
