"""Replay gaps: facts a replay skipped on purpose (`allow_gap`), kept until something covers them.

A replay that starts after a receiver's acknowledged floor + 1 would never deliver the facts in
between. It is refused unless the operator says `allow_gap` with a reason; then the gap is
recorded here per link (the facts each source loses), shown on the link (state `gap`) and in the
reconciliation report, and stays open until a later replay of that receiver starts at or before
it, or an anti-entropy run finds the link's two ends agreeing again.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

metadata = sa.MetaData()
gaps = sa.Table(
    "sync_replay_gaps",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("direction", sa.String(3), nullable=False),
    sa.Column("from_place", sa.String(6), nullable=False),
    sa.Column("to_place", sa.String(6), nullable=False, index=True),
    sa.Column("first_seq", sa.BigInteger, nullable=False),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
    sa.Column("skipped", sa.BigInteger, nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("recorded_by", sa.String(200), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("closed_at", sa.DateTime(timezone=True)),
    sa.Column("closed_by", sa.String(200)),
    sa.Column("close_reason", sa.Text),
)


class GapStore:
    def __init__(self, engine: sa.Engine):
        self.engine = engine
        metadata.create_all(engine)

    def record(
        self, direction: str, to_place: str, first_seq: int, last_seq: int,
        skipped: dict[str, int], by: str, reason: str,
    ) -> list[str]:  # fmt: skip
        """One open gap per source that loses facts; returns their ids."""
        now, ids = _now(), []
        with self.engine.begin() as conn:
            for from_place, count in sorted(skipped.items()):
                if count <= 0:
                    continue
                ids.append(str(uuid.uuid4()))
                conn.execute(
                    gaps.insert().values(
                        id=ids[-1], direction=direction, from_place=from_place, to_place=to_place,
                        first_seq=first_seq, last_seq=last_seq, skipped=count, recorded_at=now,
                        recorded_by=by, reason=reason,
                    )
                )  # fmt: skip
        return ids

    def close_covered(self, direction: str, to_place: str, from_sequence: int, by: str) -> int:
        """A replay of the receiver from `from_sequence` delivers every gap from there on."""
        return self._close(
            (gaps.c.direction == direction)
            & (gaps.c.to_place == to_place)
            & (gaps.c.first_seq >= from_sequence),
            by,
            f"covered by a replay from sequence {from_sequence}",
        )

    def close_agreed(self, direction: str, from_place: str, to_place: str, since: float) -> int:
        """An anti-entropy run (started at `since`) found both ends of the link agreeing."""
        started = datetime.fromtimestamp(since, UTC)
        return self._close(
            (gaps.c.direction == direction)
            & (gaps.c.from_place == from_place)
            & (gaps.c.to_place == to_place)
            & (gaps.c.recorded_at < started),
            "sync-antientropy",
            "an anti-entropy run found both ends of the link agreeing",
        )

    def _close(self, where: Any, by: str, reason: str) -> int:
        with self.engine.begin() as conn:
            done = conn.execute(
                gaps.update()
                .where(where & gaps.c.closed_at.is_(None))
                .values(closed_at=_now(), closed_by=by, close_reason=reason)
            )
        return int(done.rowcount or 0)

    def open_gaps(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(gaps).where(gaps.c.closed_at.is_(None)).order_by(gaps.c.recorded_at)
            ).all()
        return [
            {
                "id": row.id,
                "direction": row.direction,
                "from_place": row.from_place,
                "to_place": row.to_place,
                "first_seq": row.first_seq,
                "last_seq": row.last_seq,
                "skipped": row.skipped,
                "recorded_at": _aware(row.recorded_at).isoformat(),
                "recorded_by": row.recorded_by,
                "reason": row.reason,
            }
            for row in rows
        ]


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
