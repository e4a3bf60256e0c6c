"""Tables that grow with the product: columns a newer release adds to a read model's table are
added to a store created by an older one, so an upgrade never fails on a missing column.

Only additive changes are done here (a new nullable column, or one with a server default); a
rebuild (`recreate_tables`) drops and creates a read model's tables whole. A read
model whose meaning changes is rebuilt from the event store instead (docs/operations.md,
"Read models"): its rows are derived data.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.schema import CreateColumn

log = logging.getLogger(__name__)


def create_or_extend(metadata: sa.MetaData, engine: sa.Engine) -> list[str]:
    """Creates missing tables and adds missing columns; returns the "table.column"s added."""
    metadata.create_all(engine)
    added: list[str] = []
    inspector = sa.inspect(engine)
    for table in metadata.sorted_tables:
        present = {c["name"] for c in inspector.get_columns(table.name, schema=table.schema)}
        for column in table.columns:
            if column.name in present:
                continue
            if not column.nullable and column.server_default is None:
                raise RuntimeError(
                    f"{table.name}.{column.name} is new and NOT NULL without a server default: "
                    "rebuild this read model instead"
                )
            ddl = CreateColumn(column).compile(dialect=engine.dialect)
            with engine.begin() as conn:
                conn.execute(sa.text(f"ALTER TABLE {table.fullname} ADD COLUMN {ddl}"))
            added.append(f"{table.name}.{column.name}")
            log.info("read model %s: added column %s", table.name, column.name)
    return added


def recreate_tables(conn: sa.Connection, model: Any) -> None:
    """Drops a read model's tables, and those an older release of it kept (`retired_tables`,
    names), then creates them as the running release declares them: a rebuild leaves no old
    column or table behind (shared/schema_upgrade.py only ever adds)."""
    quote = conn.dialect.identifier_preparer.quote
    for name in getattr(model, "retired_tables", ()):
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {quote(name)}"))
    for table in reversed(model.tables):
        table.drop(conn, checkfirst=True)
    for table in model.tables:
        table.create(conn)
