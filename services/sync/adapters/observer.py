"""What the sync service sees of every place: status heartbeats, JetStream consumer state, the
operators' control keys; and the dead-letter stream, ingested into the sync service's database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from typing import Any

from nats.aio.client import Client
from nats.js import JetStreamContext

from services.sync.adapters.deadletters import DeadLetterStore
from shared.messaging.connection import connect
from shared.messaging.topology import (
    CONTROL_BUCKET,
    DEADLETTER_CONSUMER,
    DEADLETTER_STREAM,
    EVENTS_STREAM,
    STATUS_BUCKET,
    deadletter_consumer,
    ensure_consumer,
    ensure_topology,
    receiver_durable,
)

log = logging.getLogger(__name__)
WINDOW = 60.0  # seconds of applied-count samples kept for throughput


class ExchangeObserver:
    def __init__(self, servers: list[str], deadletters: DeadLetterStore | None = None):
        self.servers = servers
        self.deadletters = deadletters
        self.nc: Client | None = None
        self.js: JetStreamContext | None = None
        self.statuses: dict[str, dict[str, Any]] = {}
        self.consumers: dict[str, dict[str, Any]] = {}
        self.control: dict[str, str] = {}
        self.samples: dict[tuple[str, str, str], deque[tuple[float, int]]] = {}
        self.ingested = 0
        self.last_error: str | None = None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def connected(self) -> bool:
        return self.nc is not None and self.nc.is_connected

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
            try:
                if self.nc is None or self.nc.is_closed:
                    self.nc = await connect(self.servers, name="liangdi-sync", owner="sync")
                    self.js = self.nc.jetstream(timeout=10)
                    await ensure_topology(self.js)
                if self.deadletters is not None and (dlq_task is None or dlq_task.done()):
                    dlq_task = asyncio.create_task(self._ingest_deadletters())
                    self._tasks.append(dlq_task)
                await self.refresh()
                self.last_error = None
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("sync observer: %s", self.last_error)
            await asyncio.sleep(1.0)

    async def refresh(self) -> None:
        assert self.js is not None
        kv = await self.js.key_value(STATUS_BUCKET)
        try:
            keys = await kv.keys()
        except Exception:  # no keys yet
            keys = []
        for key in keys:
            with contextlib.suppress(Exception):
                entry = await kv.get(key)
                if entry.value:
                    self.statuses[key] = json.loads(entry.value)
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

    async def _refresh_control(self) -> None:
        assert self.js is not None
        kv = await self.js.key_value(CONTROL_BUCKET)
        try:
            keys = await kv.keys()
        except Exception:  # no keys yet
            keys = []
        control: dict[str, str] = {}
        for key in keys:
            with contextlib.suppress(Exception):
                entry = await kv.get(key)
                if entry.value:
                    control[key] = entry.value.decode()
        self.control = control

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
