"""Instants read back from SQLite carry their offset, like PostgreSQL's `timestamptz` does.

Every read-model time column is `DateTime(timezone=True)`. PostgreSQL keeps the instant and returns
it with its offset; SQLite has no such type, so SQLAlchemy stores the wall-clock digits and returns
a naive datetime, which the API then shows without an offset. Here, once per SQLite engine: an
aware value is stored as its UTC instant, and a value read from a `timezone=True` column comes back
in UTC. Routes need nothing of their own.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite


class _AwareSQLiteDateTime(sqlite.DATETIME):
    cache_ok = True

    def bind_processor(self, dialect: Any) -> Any:
        process = super().bind_processor(dialect)

        def bind(value: Any) -> Any:
            if isinstance(value, datetime) and value.tzinfo is not None:
                value = value.astimezone(UTC).replace(tzinfo=None)
            return process(value) if process else value

        return bind

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        process = super().result_processor(dialect, coltype)
        aware = bool(self.timezone)

        def result(value: Any) -> Any:
            value = process(value) if process else value
            if aware and isinstance(value, datetime) and value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            return value

        return result


def aware_sqlite_datetimes(engine: sa.Engine) -> sa.Engine:
    """Makes a SQLite engine's `DateTime(timezone=True)` columns round-trip aware values."""
    if engine.dialect.name == "sqlite":
        engine.dialect.colspecs = {**engine.dialect.colspecs, sa.DateTime: _AwareSQLiteDateTime}
    return engine
