"""The asyncio side of a place's link to the exchange: one NATS connection, the relay loop, the
receiver loop, and the status every operator sees. The service keeps accepting writes while NATS
is down; both loops reconnect and catch up by themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from shared.messaging.receiver import APPLIED, DEAD, DUPLICATE, PARKED, InboundProcessor
from shared.messaging.relay import Relay
from shared.messaging.topology import (
    CONTROL_BUCKET,
    EVENTS_STREAM,
    STATUS_BUCKET,
    deadletter_subject,
    ensure_topology,
    receiver_consumer,
)

log = logging.getLogger(__name__)
RETRY_HEADER = "Liangdi-Retry-Of"


class PlaceAgent:
    def __init__(
        self,
        *,
        servers: list[str],
        service: str,
        place: str,
        relay: Relay | None,
        processor: InboundProcessor | None,
        poll_interval: float = 0.2,
        park_delay: float = 1.0,
    ):
        self.servers, self.service, self.place = servers, service, place
        self.relay, self.processor = relay, processor
        self.poll_interval, self.park_delay = poll_interval, park_delay
        self.nc: Client | None = None
        self.js: JetStreamContext | None = None
        self.ready = asyncio.Event()
        self.receiver_error: str | None = None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._wake = asyncio.Event()

    @property
    def connected(self) -> bool:
        return self.nc is not None and self.nc.is_connected

    def wake(self) -> None:
        """Called after a local write so the relay publishes without waiting for the next poll."""
        self._wake.set()

    async def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._connect_and_run(), name="agent"))

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.nc is not None and not self.nc.is_closed:
            with contextlib.suppress(Exception):
                # close, not drain: draining a pull subscription waits ~30 s for nothing
                await asyncio.wait_for(self.nc.close(), timeout=5)

    async def _connect_and_run(self) -> None:
        delay = 0.5
        while not self._stop.is_set():
            try:
                self.nc = await nats.connect(
                    servers=self.servers,
                    name=f"liangdi-{self.service}-{self.place}",
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=1,
                    connect_timeout=3,
                    allow_reconnect=True,
                )
                self.js = self.nc.jetstream(timeout=10)
                await ensure_topology(self.js)
                break
            except Exception as exc:  # NATS not up yet: keep serving HTTP, retry
                log.warning("NATS not reachable (%s); retrying in %.1fs", exc, delay)
                if self.nc is not None:
                    with contextlib.suppress(Exception):
                        await self.nc.close()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        self.ready.set()
        loops = [self._status_loop()]
        if self.relay is not None:
            loops.append(self._relay_loop())
        if self.processor is not None:
            loops.append(self._receiver_loop())
        await asyncio.gather(*loops)

    async def _relay_loop(self) -> None:
        assert self.relay is not None and self.js is not None
        while not self._stop.is_set():
            try:
                sent = await self.relay.run_once(self.js)
            except Exception as exc:
                self.relay.record_error(exc)
                log.warning("relay: %s", self.relay.last_error)
                sent = 0
                await asyncio.sleep(1.0)
            if not sent:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval)

    async def _receiver_loop(self) -> None:
        assert self.processor is not None and self.js is not None
        direction = self.processor.direction
        config = receiver_consumer(self.service, self.place, direction)
        while not self._stop.is_set():
            try:
                sub = await self.js.pull_subscribe(
                    config.filter_subject or "",
                    durable=config.durable_name,
                    stream=EVENTS_STREAM,
                    config=config,
                )
                while not self._stop.is_set():
                    if await self._paused():
                        await asyncio.sleep(0.5)
                        continue
                    try:
                        messages = await sub.fetch(batch=64, timeout=1.0)
                    except TimeoutError:
                        continue
                    for msg in messages:
                        await self._handle(msg)
                    self.receiver_error = None
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # A pull subscription can stop after a server restart: build a new one.
                self.receiver_error = f"{type(exc).__name__}: {exc}"
                log.warning("receiver: %s; resubscribing", self.receiver_error)
                await asyncio.sleep(1.0)

    async def _handle(self, msg: Msg) -> None:
        assert self.processor is not None and self.js is not None
        retry_of = (msg.headers or {}).get(RETRY_HEADER)
        outcome = await asyncio.to_thread(self.processor.process, msg.data, retry_of)
        if outcome.result in (APPLIED, DUPLICATE):
            await msg.ack()
        elif outcome.result == PARKED:
            await msg.nak(delay=self.park_delay)
        elif outcome.result == DEAD:
            meta = msg.metadata
            headers = {
                "Nats-Msg-Id": f"dlq.{self.service}.{self.place}.{meta.sequence.stream}",
                "Liangdi-Reason": outcome.reason[:1000],
                "Liangdi-Subject": msg.subject,
                "Liangdi-Receiver": f"{self.service}:{self.place}",
                "Liangdi-Stream-Seq": str(meta.sequence.stream),
            }
            await self.js.publish(
                deadletter_subject(self.service, self.place), msg.data, headers=headers
            )
            await msg.ack()
            log.warning("dead letter: %s", outcome.reason)

    async def _paused(self) -> bool:
        assert self.js is not None
        try:
            kv = await self.js.key_value(CONTROL_BUCKET)
            entry = await kv.get(f"pause.{self.service}.{self.place}")
            return entry.value == b"1"
        except Exception:
            return False

    def status(self) -> dict[str, Any]:
        status: dict[str, Any] = {
            "service": self.service,
            "place": self.place,
            "connected": self.connected,
            "at": time.time(),
        }
        if self.relay is not None:
            status["relay"] = self.relay.status()
        if self.processor is not None:
            status["receiver"] = self.processor.status() | {"last_error": self.receiver_error}
        return status

    async def _status_loop(self) -> None:
        while not self._stop.is_set():
            try:
                assert self.js is not None
                kv = await self.js.key_value(STATUS_BUCKET)
                await kv.put(f"{self.service}.{self.place}", json.dumps(self.status()).encode())
            except Exception as exc:
                log.debug("status not published: %s", exc)
            await asyncio.sleep(1.0)


__all__ = ["PlaceAgent", "APPLIED", "DUPLICATE", "PARKED", "DEAD", "RETRY_HEADER"]
