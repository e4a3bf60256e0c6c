"""How far a relay or projection has got, kept in the service's own database; and for a read
model halted on an event, which event and why (`liangdi_read_model_failures`, kept so that a
halt survives restarts and every instance of the service sees it, with how it was resolved)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from shared.row_writes import dialect_insert

metadata = sa.MetaData()

positions = sa.Table(
    "liangdi_positions",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)


# Its own metadata: only the place services (shared/read_models.py) create it.
failures = sa.Table(
    "liangdi_read_model_failures",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("read_model", sa.String(100), nullable=False, index=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("event_type", sa.String(200), nullable=False),
    sa.Column("originator_id", sa.String(64), nullable=False),
    sa.Column("originator_version", sa.BigInteger, nullable=False),
    sa.Column("error", sa.String(1000), nullable=False),
    sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
    # halted, then one of: retried, skipped, rebuilt
    sa.Column("state", sa.String(20), nullable=False, index=True),
    sa.Column("resolved_by", sa.String(200)),
    sa.Column("resolved_at", sa.DateTime(timezone=True)),
    sa.Column("reason", sa.String(500)),
)
HALTED, RETRIED, SKIPPED, REBUILT = "halted", "retried", "skipped", "rebuilt"

# Built once: a read model's batch reads, locks and sets its position, and a statement built per
# call cost more than the database's work on it (docs/performance.md, "Tenth pass").
_AT = sa.select(positions.c.position).where(positions.c.name == sa.bindparam("name"))
_LOCKED = {"postgresql": _AT.with_for_update()}
_SET = (
    positions.update()
    .where(positions.c.name == sa.bindparam("key"))
    .values(position=sa.bindparam("value"), updated_at=sa.bindparam("at"))
)


class PositionStore:
    def __init__(self, engine: sa.Engine):
        self.engine = engine
        metadata.create_all(engine)

    def get(self, name: str, conn: sa.Connection | None = None) -> int:
        query = sa.select(positions.c.position).where(positions.c.name == name)
        if conn is not None:
            return conn.execute(query).scalar() or 0
        with self.engine.connect() as own:
            return own.execute(query).scalar() or 0

    def exists(self, name: str, conn: sa.Connection) -> bool:
        query = sa.select(positions.c.name).where(positions.c.name == name)
        return conn.execute(query).first() is not None

    def lock(self, conn: sa.Connection, name: str) -> int:
        """Reads a position inside `conn`'s transaction, locking the row where the database can."""
        query = _LOCKED.get(conn.dialect.name, _AT)
        value = conn.execute(query, {"name": name}).scalar()
        if value is None:
            # Two instances starting on a new store both find no row: one creates it, the other
            # waits for that and locks it too (a plain insert failed the second one's pass).
            new = dialect_insert(conn, positions).values(name=name, position=0, updated_at=now())
            conn.execute(new.on_conflict_do_nothing(index_elements=["name"]))
            value = conn.execute(query, {"name": name}).scalar()
        return int(value or 0)

    def lock_many(self, conn: sa.Connection, names: list[str]) -> dict[str, int]:
        """`lock` for several positions in one query; a position with no row is left out."""
        query = sa.select(positions.c.name, positions.c.position).where(positions.c.name.in_(names))
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        return {name: int(position) for name, position in conn.execute(query)}

    def set(self, name: str, value: int, conn: sa.Connection | None = None) -> None:
        if conn is not None:
            if conn.execute(_SET, {"key": name, "value": value, "at": now()}).rowcount == 0:
                conn.execute(positions.insert().values(name=name, position=value, updated_at=now()))
            return
        with self.engine.begin() as own:
            self.set(name, value, own)


def now() -> datetime:
    return datetime.now(UTC)
