"""Read models kept up to date from the event store, exactly once.

A projector reads the notification log after its recorded position and updates its tables and its
position in one database transaction; it never replays aggregates per request. A background loop
follows the log (nudged by each write and each fact the receiver applies), and a read waits until
the read models have passed the head of the log (`PlaceRuntime.fresh_reads`, read-your-writes).

A place service keeps several `ReadModel`s, each with its own position, so that one event a read
model cannot hold (a value its table cannot store, a bug in its handler) halts that read model at
that event and nothing else: the failure is recorded (`shared.read_models`), the other read models
and every write go on. See docs/operations.md, "Read models".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa
from eventsourcing.utils import resolve_topic

from shared.eventsourced import SHORT_HISTORY, LiangdiApplication
from shared.positions import PositionStore
from shared.row_writes import Writes, WritesFailed, is_transient, upsert
from shared.schema_upgrade import create_or_extend

log = logging.getLogger(__name__)
__all__ = ["AggregatesAt", "Batches", "EventFailed", "ReadModel", "WritesFailed", "upsert"]


class Projector:
    name = "projection"
    metadata: sa.MetaData

    def __init__(self, app: LiangdiApplication, engine: sa.Engine, positions: PositionStore):
        self.app, self.engine, self.positions = app, engine, positions
        create_or_extend(self.metadata, engine)  # a newer release's columns on an older store
        self._lock = threading.Lock()

    def handle(self, conn: sa.Connection, event: Any) -> None:
        raise NotImplementedError

    def run_once(self, limit: int | None = None) -> int:
        limit = limit or batch_size(self.engine)
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
                log.exception("projection %s failed", self.name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)


def batch_size(engine: sa.Engine) -> int:
    # SQLite has one writer: hold its lock for a few events at a time, not hundreds, or the
    # event store's writers time out waiting behind the read model.
    return 500 if engine.dialect.name == "postgresql" else 20


class EventFailed(Exception):
    """A read model's handler failed on the notification at `index` of the batch."""

    def __init__(self, index: int, notification: Any, error: BaseException):
        super().__init__(str(error))
        self.index, self.notification, self.error = index, notification, error


class ReadModel:
    """One read model: its tables, the event classes it handles, its own position.

    `run_once` applies a batch in one transaction. An event whose handler fails (other than a
    transient database error) raises `EventFailed`; the caller (`shared.read_models`) then applies
    the events before it and records the halt there, so the position never passes that event.
    """

    name: str  # short and stable: it appears in URLs, metrics and the failures table
    tables: tuple[sa.Table, ...]
    handles: tuple[type, ...]
    # The position of the single projector these read models were split from: a store that
    # already had it starts there (its rows are current to it) instead of replaying from 0.
    legacy_position: str | None = None

    def __init__(self, app: LiangdiApplication, engine: sa.Engine, service: str):
        self.app, self.engine, self.service = app, engine, service
        self.key = f"read-model:{service}:{self.name}"
        for table in self.tables:
            table.create(engine, checkfirst=True)
        self.lock = threading.Lock()
        self._at = AggregatesAt(app)
        self.handled_since_start = 0
        self.drained = False  # whether the last batch reached the end of the log
        self.seen_at = 0  # the position this process last saw it at (read-your-writes waits on it)
        self._wanted: dict[str, bool] = {}

    def handle(self, conn: sa.Connection, event: Any) -> None:
        raise NotImplementedError

    def wants(self, topic: str) -> bool:
        """Decided from the stored topic, so events of other read models are never decoded."""
        if topic not in self._wanted:
            self._wanted[topic] = issubclass(resolve_topic(topic), self.handles)
        return self._wanted[topic]

    def apply(
        self,
        conn: sa.Connection,
        position: int,
        limit: int,
        skipped: frozenset[int],
        notifications: list[Any] | None = None,
        deferred: bool = True,
    ) -> tuple[int, int]:
        """Applies up to `limit` notifications after `position` in `conn`'s transaction (those
        given, read already for it, or else read here).

        Returns (last notification id, events gone through). Skipped ids were waived by an
        operator; events of other read models are passed over. `deferred`: the handlers' rows
        go to the database in runs (shared/row_writes.py); a run that fails raises
        `WritesFailed`, and the caller applies the batch again with `deferred=False`, where a
        failure is the event's own.
        """
        if notifications is None:
            notifications = Batches(self.app).after(position, limit)
        writes = Writes(conn, deferred)
        decoded = self._decoded(notifications, skipped)
        for index, notification in enumerate(notifications):
            if notification.id in skipped:
                continue
            try:
                if self.wants(notification.topic):
                    event = (
                        decoded[index]
                        if index in decoded
                        else self.app.mapper.to_domain_event(notification)
                    )
                    self.handle(writes, event)
            except WritesFailed:  # an earlier event's rows, sent before this one read
                raise
            except Exception as exc:
                if is_transient(exc):
                    raise
                raise EventFailed(index, notification, exc) from exc
        writes.flush()
        return (notifications[-1].id if notifications else position), len(notifications)

    def _decoded(self, notifications: list[Any], skipped: frozenset[int]) -> dict[int, Any]:
        """The batch's events for this read model, by index, with the aggregates they will
        ask for brought in step at once (`AggregatesAt.prefetch`). An event that cannot be
        decoded is left out: decoded again in turn, its failure is its own."""
        decoded: dict[int, Any] = {}
        for index, notification in enumerate(notifications):
            if notification.id not in skipped and self.wants(notification.topic):
                with contextlib.suppress(Exception):
                    decoded[index] = self.app.mapper.to_domain_event(notification)
        self._at.prefetch(decoded.values())
        return decoded

    def clear(self, conn: sa.Connection) -> None:
        """Empties the tables for a rebuild from zero."""
        for table in reversed(self.tables):
            conn.execute(table.delete())

    def at(self, event: Any) -> Any:
        """The aggregate as it stood at this event's version."""
        return self._at(event)


class Batches:
    """Batches of the notification log, each read once: the read models of one catch-up pass
    usually start at the same position and would otherwise each read the same batch."""

    def __init__(self, app: LiangdiApplication):
        self.app = app
        self._read: dict[tuple[int, int], list[Any]] = {}

    def after(self, position: int, limit: int) -> list[Any]:
        key = (position, limit)
        if key not in self._read:
            self._read[key] = self.app.recorder.select_notifications(
                start=position, limit=limit, inclusive_of_start=False
            )
        return self._read[key]


class AggregatesAt:
    """Aggregates as they stood at an event's version, for a reader of the log in order.

    A read model meets every event of the aggregates it handles, in order: the version before
    an event, kept from the previous call, is moved on by the event itself, exactly as the
    repository replays it (`mutate`), instead of reading all of the aggregate's events from the
    store again for each of them. A creation event needs no previous version. Anything else (a
    first sight, an event skipped or rolled back, a failed `mutate`) reads the store.

    For one reader at a time: what it returns is moved on, in place, by its next call.
    """

    def __init__(self, app: LiangdiApplication, size: int = 4096):
        self.app, self.size = app, size
        self._kept: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()  # each caller owns what it took out
        self._asked = False  # a reader that never asks for an aggregate is not given any

    def prefetch(self, events: Iterable[Any], needs: Callable[[Any], bool] | None = None) -> None:
        """Brings in step, in one query, the aggregates of a batch of the log that this reader
        will ask for (`needs`) and does not keep in step: each as it stood just before its first
        event in the batch, so the batch's own events move it on from there.

        A member registered long ago is not kept (the log moved thousands of events on since),
        and each of its facts read the store alone: one round trip per fact, in turn, in the
        relay's round and the read models' pass (docs/performance.md, "Sixth pass"). Best
        effort: what is not brought in step here is read alone when asked for, as before.
        """
        if not self._asked:
            return
        first: dict[Any, int] = {}
        wanted: set[Any] = set()
        for event in events:
            first.setdefault(event.originator_id, event.originator_version)
            if needs is None or needs(event):
                wanted.add(event.originator_id)
        with self._lock:
            kept = {i: self._kept.get(i) for i in wanted}
            for i in wanted:  # the batch's own come last in line: what is kept next evicts others
                if kept[i] is not None:
                    self._kept.move_to_end(i)
        before = {
            i: first[i] - 1
            for i in wanted
            # Longer histories are read from their snapshot, one by one.
            if 1 < first[i] <= SHORT_HISTORY + 1
            and (kept[i] is None or kept[i].version not in (first[i] - 1, first[i]))
        }
        if not before:
            return
        try:
            built = self.app.replayed(before)
        except Exception:  # the store unreachable: asked for one by one, the reads will tell
            log.debug("prefetch failed", exc_info=True)
            return
        for i, aggregate in built.items():
            if aggregate.version == before[i]:
                self._keep(aggregate)

    def __call__(self, event: Any) -> Any:
        self._asked = True
        aggregate = self._advance(event)
        if aggregate is None:
            aggregate = self.app.repository.get(
                event.originator_id, version=event.originator_version
            )
        self._keep(aggregate)
        return aggregate

    def observe(self, event: Any) -> None:
        """Moves on what is kept by an event the reader does not need the aggregate for (so a
        later one finds it in step); never reads the store."""
        aggregate = self._advance(event)
        if aggregate is not None:
            self._keep(aggregate)

    def _advance(self, event: Any) -> Any:
        with self._lock:
            kept = self._kept.pop(event.originator_id, None)
        if kept is not None and kept.version == event.originator_version:
            return kept  # observed already
        if kept is not None and kept.version == event.originator_version - 1:
            return self._moved_on(event, kept)
        if event.originator_version == 1:
            return self._moved_on(event, None)
        return None

    def _keep(self, aggregate: Any) -> None:
        with self._lock:
            self._kept[aggregate.id] = aggregate
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)

    @staticmethod
    def _moved_on(event: Any, previous: Any) -> Any:
        try:
            return event.mutate(previous)
        except Exception:  # not the next version after all, or not a creation: read the store
            return None
