"""What a place's link keeps in its own store besides positions: the relay's per-member routes
and the link counters operators read.

- `liangdi_relay_routes`: per relay, destination and member, the sender's notification id of the
  last fact sent there. It gives each message its `liangdiprevseq` without reading aggregate
  history, and it is written in one transaction with the relay's position, so a re-publish after
  a crash computes the same values.
- `liangdi_link_counters`: cumulative counters per link (`published` per destination for a relay;
  `applied`, `duplicate`, `dead_letter`... per source for a receiver), so a restart or a change of
  leader never resets what operators compare to find a gap. Written as increments, so an instance
  that lost its leadership a moment ago cannot overwrite its successor's figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from shared.row_writes import dialect_insert

metadata = sa.MetaData()

routes = sa.Table(
    "liangdi_relay_routes",
    metadata,
    sa.Column("relay", sa.String(200), primary_key=True),
    sa.Column("to_place", sa.String(20), primary_key=True),
    sa.Column("member_id", sa.String(200), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
)

COUNTERS = ("published", "applied", "duplicate", "parked", "dead_letter")
# Columns that hold the highest value seen (a position or a time), not a running total.
MAXIMA = ("last_stream_seq", "last_event_time_ms", "last_applied_at_ms")

counts = sa.Table(
    "liangdi_link_counters",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("peer", sa.String(20), primary_key=True),
    *(sa.Column(c, sa.BigInteger, nullable=False, default=0) for c in COUNTERS + MAXIMA),
)

# Facts the exporter could not put into a wire model (a stored value the contract refuses, e.g.
# one stored before the contract bounded it): skipped, never blocking the link, and kept here
# with the reason so operators see exactly what the other place did not receive.
unsent = sa.Table(
    "liangdi_relay_unsent",
    metadata,
    sa.Column("relay", sa.String(200), primary_key=True),
    sa.Column("notification_id", sa.BigInteger, primary_key=True),
    sa.Column("event_type", sa.String(200), nullable=False),
    sa.Column("originator_id", sa.String(200), nullable=False),
    sa.Column("error", sa.String(1000), nullable=False),
    sa.Column("recorded_at", sa.Float, nullable=False),
)

Route = tuple[str, str]  # (destination place, member id)
Counters = dict[str, dict[str, int]]  # peer -> counter -> value


class LinkStore:
    def __init__(self, engine: sa.Engine):
        self.engine = engine
        metadata.create_all(engine)

    def load_routes(self, relay: str) -> dict[Route, int]:
        query = sa.select(routes.c.to_place, routes.c.member_id, routes.c.seq).where(
            routes.c.relay == relay
        )
        with self.engine.connect() as conn:
            return {(to, member): int(seq) for to, member, seq in conn.execute(query)}

    def save_routes(self, conn: sa.Connection, relay: str, changed: Mapping[Route, int]) -> None:
        if not changed:
            return
        rows = [
            {"relay": relay, "to_place": to, "member_id": member, "seq": seq}
            for (to, member), seq in changed.items()
        ]
        insert = dialect_insert(conn, routes)
        conn.execute(
            insert.on_conflict_do_update(
                index_elements=[routes.c.relay, routes.c.to_place, routes.c.member_id],
                set_={"seq": insert.excluded.seq},
            ),
            rows,
        )

    def replace_routes(self, conn: sa.Connection, relay: str, rebuilt: Mapping[Route, int]) -> None:
        conn.execute(routes.delete().where(routes.c.relay == relay))
        self.save_routes(conn, relay, rebuilt)

    def record_unsent(self, conn: sa.Connection, relay: str, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            key = (unsent.c.relay == relay, unsent.c.notification_id == row["notification_id"])
            if conn.execute(sa.select(unsent.c.relay).where(*key)).first() is None:
                conn.execute(unsent.insert().values(relay=relay, **row))

    def load_unsent(self, relay: str, limit: int = 20) -> tuple[int, list[dict[str, Any]]]:
        """How many facts were never sent, and the latest few with their reasons."""
        where = unsent.c.relay == relay
        with self.engine.connect() as conn:
            total = conn.execute(sa.select(sa.func.count()).where(where)).scalar_one()
            latest = conn.execute(
                sa.select(unsent)
                .where(where)
                .order_by(unsent.c.notification_id.desc())
                .limit(limit)
            )
            return int(total), [dict(row._mapping) for row in latest]

    def load_counts(self, name: str) -> Counters:
        query = sa.select(counts).where(counts.c.name == name)
        with self.engine.connect() as conn:
            return {
                row.peer: {c: int(getattr(row, c)) for c in COUNTERS + MAXIMA if getattr(row, c)}
                for row in conn.execute(query)
            }

    def add_counts(self, name: str, deltas: Counters, conn: sa.Connection | None = None) -> None:
        """Adds running totals; for MAXIMA keeps the larger value. One statement per peer."""
        if conn is None:
            with self.engine.begin() as own:
                self.add_counts(name, deltas, own)
            return
        for peer, values in deltas.items():
            changes: dict[str, Any] = {}
            for column, value in values.items():
                current = counts.c[column]
                if column in MAXIMA:
                    changes[column] = sa.case((current < value, value), else_=current)
                else:
                    changes[column] = current + value
            where = (counts.c.name == name, counts.c.peer == peer)
            if conn.execute(counts.update().where(*where).values(**changes)).rowcount == 0:
                conn.execute(counts.insert().values(name=name, peer=peer, **_zeros() | values))


def _zeros() -> dict[str, int]:
    return dict.fromkeys(COUNTERS + MAXIMA, 0)
