"""Read models kept up to date from the event store, exactly once.

A projector reads the notification log after its recorded position and updates its tables and its
position in one database transaction; it never replays aggregates per request. The service calls
`catch_up()` after each write (read-your-writes) and a background loop picks up everything else,
for example facts applied by the receiver.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from typing import Any

import sqlalchemy as sa

from shared.eventsourced import LiangdiApplication
from shared.positions import PositionStore


class Projector:
    name = "projection"
    metadata: sa.MetaData

    def __init__(self, app: LiangdiApplication, engine: sa.Engine, positions: PositionStore):
        self.app, self.engine, self.positions = app, engine, positions
        self.metadata.create_all(engine)
        self._lock = threading.Lock()

    def handle(self, conn: sa.Connection, event: Any) -> None:
        raise NotImplementedError

    def run_once(self, limit: int | None = None) -> int:
        # SQLite has one writer: hold its lock for a few events at a time, not hundreds, or the
        # event store's writers time out waiting behind the read model.
        limit = limit or (500 if self.engine.dialect.name == "postgresql" else 20)
        with self._lock, self.engine.begin() as conn:
            position = self.positions.lock(conn, self.name)
            notifications = self.app.recorder.select_notifications(
                start=position, limit=limit, inclusive_of_start=False
            )
            for notification in notifications:
                self.handle(conn, self.app.mapper.to_domain_event(notification))
            if notifications:
                self.positions.set(self.name, notifications[-1].id, conn)
            return len(notifications)

    def catch_up(self) -> None:
        while self.run_once():
            pass

    @property
    def position(self) -> int:
        return self.positions.get(self.name)

    async def run_forever(self, interval: float, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.catch_up)
            except Exception:  # a bad event must not stop the read model for good: log, retry
                logging.getLogger(__name__).exception("projection %s failed", self.name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)


def upsert(
    conn: sa.Connection, table: sa.Table, key: dict[str, Any], values: dict[str, Any]
) -> None:
    """Updates the row with `key`, inserting it when absent (portable across SQLite/PostgreSQL)."""
    where = sa.and_(*(table.c[name] == value for name, value in key.items()))
    if conn.execute(table.update().where(where).values(**values)).rowcount == 0:
        conn.execute(table.insert().values(**key, **values))
