"""What a place's link keeps in its own store besides positions: the relay's per-member routes
and the link counters operators read.

- `liangdi_relay_routes`: per relay, destination and member, the sender's notification id of the
  last fact sent there. It gives each message its `liangdiprevseq` without reading aggregate
  history, and it is written in one transaction with the relay's position, so a re-publish after
  a crash computes the same values.
- `liangdi_link_counts`: cumulative counters per link (`published` per destination for a relay;
  `applied`, `duplicate`, `dead_letter`... per source for a receiver), so a restart or a change of
  leader never resets what operators compare to find a gap. Written as increments, so an instance
  that lost its leadership a moment ago cannot overwrite its successor's figures.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

metadata = sa.MetaData()

routes = sa.Table(
    "liangdi_relay_routes",
    metadata,
    sa.Column("relay", sa.String(200), primary_key=True),
    sa.Column("to_place", sa.String(20), primary_key=True),
    sa.Column("member_id", sa.String(200), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
)

counts = sa.Table(
    "liangdi_link_counts",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("peer", sa.String(20), primary_key=True),
    sa.Column("counter", sa.String(40), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

Route = tuple[str, str]  # (destination place, member id)
Counters = dict[str, dict[str, int]]  # peer -> counter -> value

# Counters that hold the highest value seen (a position or a time), not a running total.
MAXIMA = frozenset({"last_stream_seq", "last_event_time_ms", "last_applied_at_ms"})


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
        for (to_place, member_id), seq in changed.items():
            updated = conn.execute(
                routes.update()
                .where(
                    routes.c.relay == relay,
                    routes.c.to_place == to_place,
                    routes.c.member_id == member_id,
                )
                .values(seq=seq)
            )
            if updated.rowcount == 0:
                conn.execute(
                    routes.insert().values(
                        relay=relay, to_place=to_place, member_id=member_id, seq=seq
                    )
                )

    def replace_routes(self, conn: sa.Connection, relay: str, rebuilt: Mapping[Route, int]) -> None:
        conn.execute(routes.delete().where(routes.c.relay == relay))
        self.save_routes(conn, relay, rebuilt)

    def load_counts(self, name: str) -> Counters:
        query = sa.select(counts.c.peer, counts.c.counter, counts.c.value).where(
            counts.c.name == name
        )
        out: Counters = {}
        with self.engine.connect() as conn:
            for peer, counter, value in conn.execute(query):
                out.setdefault(peer, {})[counter] = int(value)
        return out

    def add_counts(self, name: str, deltas: Counters, conn: sa.Connection | None = None) -> None:
        """Adds running totals; for MAXIMA keeps the larger value."""
        if conn is None:
            with self.engine.begin() as own:
                self.add_counts(name, deltas, own)
            return
        for peer, values in deltas.items():
            for counter, value in values.items():
                where = (counts.c.name == name, counts.c.peer == peer, counts.c.counter == counter)
                if counter in MAXIMA:
                    new = sa.case((counts.c.value < value, value), else_=counts.c.value)
                else:
                    new = counts.c.value + value
                if conn.execute(counts.update().where(*where).values(value=new)).rowcount == 0:
                    conn.execute(
                        counts.insert().values(name=name, peer=peer, counter=counter, value=value)
                    )
