"""One process at a time creates a store's schema and tables.

Several instances of a service may start at once on one PostgreSQL store: a deployment's
replicas, `uvicorn --workers N`, the link in a process of its own beside the HTTP instances
(docs/operations.md). `CREATE ... IF NOT EXISTS` is not safe against itself: two sessions both
pass the check, then one fails on PostgreSQL's catalogue (a duplicate key in `pg_type` or
`pg_namespace`) and its process exits at start-up. So the schema is created under a transaction
lock, and each process's tables under a session lock of its schema, waited for, not tried.

Two keys, not one: a process holding its schema's set-up lock never waits for itself when its
set-up opens a connection that creates a schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

# hashtextextended: PostgreSQL's own 64-bit hash of a text, the key of an advisory lock.
_SCHEMA_KEY = "hashtextextended('liangdi/create-schema', 0)"
_SET_UP_KEY = "hashtextextended('liangdi/set-up/' || current_schema(), 0)"


def create_schema(conn: sa.Connection, schema: str) -> None:
    """`CREATE SCHEMA IF NOT EXISTS`, one session at a time (within the caller's transaction)."""
    conn.execute(sa.text(f"SELECT pg_advisory_xact_lock({_SCHEMA_KEY})"))
    conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))


@contextmanager
def setting_up(engine: sa.Engine) -> Iterator[None]:
    """Holds the set-up lock of the engine's schema while the caller creates its tables.

    SQLite is the embedded single-process default: nothing to hold. A process that dies while
    holding the lock loses its session, and the lock with it."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as conn:
        conn.execute(sa.text(f"SELECT pg_advisory_lock({_SET_UP_KEY})"))
        conn.commit()
        try:
            yield
        finally:
            conn.execute(sa.text(f"SELECT pg_advisory_unlock({_SET_UP_KEY})"))
            conn.commit()
