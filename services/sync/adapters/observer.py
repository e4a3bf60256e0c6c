"""What the sync service sees of every place: status heartbeats and JetStream consumer state."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext

from shared.messaging.topology import (
    EVENTS_STREAM,
    STATUS_BUCKET,
    ensure_topology,
    receiver_durable,
)

log = logging.getLogger(__name__)


class ExchangeObserver:
    def __init__(self, servers: list[str]):
        self.servers = servers
        self.nc: Client | None = None
        self.js: JetStreamContext | None = None
        self.statuses: dict[str, dict[str, Any]] = {}
        self.consumers: dict[str, dict[str, Any]] = {}
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        return self.nc is not None and self.nc.is_connected

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self._stop.set()
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self.nc is not None and not self.nc.is_closed:
            with contextlib.suppress(Exception):
                await self.nc.close()

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.nc is None or self.nc.is_closed:
                    self.nc = await nats.connect(
                        servers=self.servers,
                        name="liangdi-sync",
                        max_reconnect_attempts=-1,
                        connect_timeout=3,
                    )
                    self.js = self.nc.jetstream(timeout=10)
                    await ensure_topology(self.js)
                await self.refresh()
            except Exception as exc:
                log.warning("sync observer: %s", exc)
            await asyncio.sleep(1.0)

    async def refresh(self) -> None:
        assert self.js is not None
        kv = await self.js.key_value(STATUS_BUCKET)
        try:
            keys = await kv.keys()
        except Exception:  # no keys yet
            keys = []
        for key in keys:
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
                    "at": time.time(),
                }
