"""What the sync service sees of every place: status heartbeats, JetStream consumer state, the
operators' control keys, per-link message counts of the events stream; and the dead-letter
stream, ingested into the sync service's database.

It also knows how fresh that view is: when each place's status last changed (by the sync
service's own clock, so a place's clock cannot make it look alive), and whether the sync
service itself reads NATS at all (`problem`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from typing import Any

from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from services.sync.adapters.deadletters import DeadLetterStore
from services.sync.adapters.statuses import StatusRefused, take_status
from services.sync.adapters.streams import LinkTally
from shared.messaging.connection import connect
from shared.messaging.topology import (
    CONTROL_BUCKET,
    DEADLETTER_CONSUMER,
    DEADLETTER_STREAM,
    EVENTS_STREAM,
    STATUS_BUCKET,
    bucket_entries,
    deadletter_consumer,
    ensure_consumer,
    ensure_topology,
    receiver_durable,
)

log = logging.getLogger(__name__)
WINDOW = 60.0  # seconds of applied-count samples kept for throughput
COUNT_EVERY = 5.0  # seconds between counts of each link's messages in the events stream
REFRESH_LIMIT = 30.0  # seconds a whole refresh may take (each NATS request has its own 10 s)
Key = tuple[str, str, str]


class ExchangeObserver:
    def __init__(self, servers: Any, deadletters: DeadLetterStore | None = None):
        self.servers = servers  # a NatsAccess, or a list of URLs
        self.deadletters = deadletters
        self.nc: Client | None = None
        self.js: JetStreamContext | None = None
        self.statuses: dict[str, dict[str, Any]] = {}  # checked (statuses.py), by key
        self.refused: dict[str, str] = {}  # status key → why its latest status was refused
        self.observed_at: dict[str, float] = {}  # status key → when its revision last changed
        self._revisions: dict[str, int] = {}
        self.refreshed_at: float | None = None
        self.tally = LinkTally()  # messages per link the events stream received
        self._counted_at = 0.0
        self.consumers: dict[str, dict[str, Any]] = {}
        self.control: dict[str, str] = {}
        self.samples: dict[tuple[str, str, str], deque[tuple[float, int]]] = {}
        self.ingested = 0
        self.last_error: str | None = None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def stream_counts(self) -> dict[Key, int]:
        return self.tally.counts

    @property
    def connected(self) -> bool:
        return self.nc is not None and self.nc.is_connected

    def problem(self, stale_after: float) -> str | None:
        """Why the sync service's own view of the exchange is not current, if it is not."""
        why = f" ({self.last_error})" if self.last_error else ""
        if not self.connected:
            return f"the sync service is not connected to NATS{why}: figures are as last seen"
        if self.refreshed_at is None:
            return f"the sync service has not read the exchange yet{why}"
        age = time.time() - self.refreshed_at
        if age > stale_after + 2.0:  # one refresh a second, plus its own duration
            return f"the sync service has not read the exchange for {age:.0f}s{why}"
        return None

    async def has_status(self, service: str, place: str) -> bool | None:
        """Whether `service.place` has a status in the bucket right now (a fresh look); None
        when NATS cannot be asked."""
        if self.js is None or not self.connected:
            return None
        try:
            kv = await self.js.key_value(STATUS_BUCKET)
            entry = await kv.get(f"{service}.{place}")
        except NotFoundError:  # absent, or deleted
            return False
        except Exception:  # NATS not answering
            return None
        return bool(entry.value)

    async def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._run()))

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.nc is not None and not self.nc.is_closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.nc.close(), timeout=5)

    async def _run(self) -> None:
        dlq_task: asyncio.Task[None] | None = None
        while not self._stop.is_set():
            limit: asyncio.Timeout | None = None
            try:
                if self.nc is None or self.nc.is_closed:
                    self.nc = await connect(self.servers, name="liangdi-sync", owner="sync")
                    self.js = self.nc.jetstream(timeout=10)
                    await ensure_topology(self.js)
                if self.deadletters is not None and (dlq_task is None or dlq_task.done()):
                    dlq_task = asyncio.create_task(self._ingest_deadletters())
                    self._tasks.append(dlq_task)
                # Bounded: one NATS call that never answers must not freeze the view for good.
                limit = asyncio.timeout(REFRESH_LIMIT)
                async with limit:
                    await self.refresh()
                self.last_error = None
            except Exception as exc:
                self.last_error = (
                    f"reading the exchange took over {REFRESH_LIMIT:.0f}s"
                    if limit is not None and limit.expired()
                    else f"{type(exc).__name__}: {exc}"
                )
                log.warning("sync observer: %s", self.last_error)
            await asyncio.sleep(1.0)

    async def refresh(self) -> None:
        assert self.js is not None
        now = time.time()
        for key, entry in (await bucket_entries(self.js, STATUS_BUCKET)).items():
            if not entry.value or entry.revision == self._revisions.get(key):
                continue
            first = key not in self._revisions
            self._revisions[key] = entry.revision or 0
            try:
                status = take_status(key, entry.value)
            except StatusRefused as exc:
                if self.refused.get(key) != str(exc):
                    log.warning("sync observer: the status under %s refused: %s", key[:40], exc)
                self.refused[key] = str(exc)
                continue
            self.refused.pop(key, None)
            # First sight after a (re)start: as old as the place says, never newer.
            self.observed_at[key] = min(status["at"], now) if first else now
            self.statuses[key] = status
        for status in self.statuses.values():
            durable = receiver_durable(status["service"], status["place"])
            with contextlib.suppress(Exception):
                info = await self.js.consumer_info(EVENTS_STREAM, durable)
                self.consumers[durable] = {
                    "pending": info.num_pending or 0,
                    "ack_pending": info.num_ack_pending or 0,
                    "redelivered": info.num_redelivered or 0,
                    "delivered_stream_seq": info.delivered.stream_seq if info.delivered else 0,
                    "ack_floor_stream_seq": info.ack_floor.stream_seq if info.ack_floor else 0,
                    "at": time.time(),
                }
        await self._refresh_control()
        self._sample()
        if time.time() - self._counted_at >= COUNT_EVERY:
            await self.tally.update(self.js, self.link_keys())
            self._counted_at = time.time()
        self.refreshed_at = time.time()

    def link_keys(self) -> set[Key]:
        keys: set[Key] = set()
        for status in self.statuses.values():
            outflow = status["service"] == "outflow"
            relay, receiver = status.get("relay") or {}, status.get("receiver") or {}
            for to_place in relay.get("per_destination") or {}:
                keys.add(("o2h" if outflow else "h2o", status["place"], to_place))
            for from_place in receiver.get("sources") or {}:
                keys.add(("h2o" if outflow else "o2h", from_place, status["place"]))
        return keys

    async def _refresh_control(self) -> None:
        assert self.js is not None
        entries = await bucket_entries(self.js, CONTROL_BUCKET)
        self.control = {
            key: entry.value.decode(errors="replace")
            for key, entry in entries.items()
            if entry.value
        }

    def _sample(self) -> None:
        """Applied counts per link over the last minute, for throughput."""
        now = time.time()
        for status in self.statuses.values():
            receiver = status.get("receiver") or {}
            direction = "h2o" if status["service"] == "outflow" else "o2h"
            for from_place, counts in (receiver.get("sources") or {}).items():
                key = (direction, from_place, status["place"])
                samples = self.samples.setdefault(key, deque())
                samples.append((now, int(counts.get("applied", 0))))
                while samples and now - samples[0][0] > WINDOW:
                    samples.popleft()

    def throughput(self, key: tuple[str, str, str]) -> float:
        samples = self.samples.get(key)
        if not samples or len(samples) < 2:
            return 0.0
        (t0, c0), (t1, c1) = samples[0], samples[-1]
        if t1 <= t0:
            return 0.0
        # A receiver restart resets its counts: count from zero then.
        return round(max(c1 - c0 if c1 >= c0 else c1, 0) / (t1 - t0), 2)

    async def _ingest_deadletters(self) -> None:
        """Stores every dead letter before acknowledging it; runs until cancelled."""
        assert self.js is not None and self.deadletters is not None
        store = self.deadletters
        while not self._stop.is_set():
            sub = None
            try:
                await ensure_consumer(self.js, DEADLETTER_STREAM, deadletter_consumer())
                sub = await self.js.pull_subscribe_bind(
                    durable=DEADLETTER_CONSUMER, stream=DEADLETTER_STREAM
                )
                while not self._stop.is_set():
                    try:
                        messages = await sub.fetch(batch=64, timeout=1.0)
                    except TimeoutError:
                        continue
                    for msg in messages:
                        headers = dict(msg.headers or {})
                        seq = msg.metadata.sequence.stream
                        if await asyncio.to_thread(store.record, seq, headers, msg.data):
                            self.ingested += 1
                        await msg.ack()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("dead-letter ingestion: %s; resubscribing", exc)
                await asyncio.sleep(1.0)
            finally:
                if sub is not None:
                    with contextlib.suppress(Exception):
                        await sub.unsubscribe()
