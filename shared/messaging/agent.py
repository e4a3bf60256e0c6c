"""The asyncio side of a place's link to the exchange: one NATS connection, the relay loop, the
receiver loop (its side in `receiving.py`), and the status every operator sees. The service
keeps accepting writes while NATS is down; both loops reconnect and catch up by themselves.

Only the leader of a store runs the link (see `leader.py`); a standby instance serves HTTP (its
writes land in the shared store, which the leader's relay publishes) and takes over when the
leader's lock is released.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from nats.aio.client import Client
from nats.js import JetStreamContext

from shared.lanes import Lane
from shared.messaging.connection import connect
from shared.messaging.control import PauseSwitches
from shared.messaging.leader import Leadership
from shared.messaging.pull import RETRY_HEADER
from shared.messaging.receiver import (
    APPLIED,
    DEAD,
    DUPLICATE,
    PARKED,
    InboundProcessor,
)
from shared.messaging.receiving import ReceivingSide
from shared.messaging.relay import Relay
from shared.messaging.topology import (
    STATUS_BUCKET,
    ensure_topology,
)

log = logging.getLogger(__name__)


class LostLeadership(Exception):
    pass


class PlaceAgent(ReceivingSide):
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
        leadership: Leadership | None = None,
        watchdog_after: float = 5.0,
        pause_delay: float = 5.0,
    ):
        self.servers, self.service, self.place = servers, service, place
        self.relay, self.processor = relay, processor
        if processor is not None:
            # Dead letter first, then the refused fact's position (receiver.settle).
            processor.track_rejections_after_dead_letter = True
        self.poll_interval, self.park_delay = poll_interval, park_delay
        self.leadership = leadership
        self.watchdog_after, self.pause_delay = watchdog_after, pause_delay
        self.nc: Client | None = None
        self.js: JetStreamContext | None = None
        self.ready = asyncio.Event()
        self.receiver_error: str | None = None
        self.receiver_error_at: float | None = None
        self.receiver_errors = 0
        self.resubscribes = 0
        self.link_error: str | None = None  # why the link last had to restart
        self.pauses = PauseSwitches(service, place)
        self._stop = asyncio.Event()
        self._term_over = asyncio.Event()  # this term's loops must end (see `_for_term`)
        self._tasks: list[asyncio.Task[None]] = []
        self._wake = asyncio.Event()
        self.on_applied: Callable[[], None] | None = None  # told when a fact was applied
        # Threads of their own (shared/lanes.py): the lock's heartbeat must not wait behind
        # the requests' threads, nor the receiver's batches.
        self._leading = Lane(f"leader-{service}")
        self._receiving = Lane(f"receiver-{service}")
        self._checking = Lane(f"checker-{service}")  # checks the next batch meanwhile

    @property
    def connected(self) -> bool:
        return self.nc is not None and self.nc.is_connected

    @property
    def role(self) -> str:
        return "leader" if self.leadership is None or self.leadership.held else "standby"

    def wake(self) -> None:
        """Called after a local write so the relay publishes without waiting for the next poll."""
        self._wake.set()

    async def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._lead_forever(), name="agent"))

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._disconnect()
        if self.leadership is not None:
            await self._leading.run(self.leadership.release)
        self._leading.close()
        self._receiving.close()
        self._checking.close()
        if self.processor is not None and self.processor.checks_apart is not None:
            self.processor.checks_apart.close()
        if self.relay is not None:
            self.relay.lane.close()

    async def _lead_forever(self) -> None:
        # This task's lines, and those of the loops and threads it starts, name the link (its
        # key in the status bucket) besides service and place (shared/logging.py).
        structlog.contextvars.bind_contextvars(link=f"{self.service}.{self.place}")
        while not self._stop.is_set():
            try:
                await self._lead_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Whatever happens (the store's sessions terminated while taking over, a bug in
                # one loop), the link must come back by itself: never let this task end.
                self.link_error = f"{type(exc).__name__}: {exc}"
                log.warning("%s %s: link stopped (%s); restarting", self.service, self.place, exc)
                if self.leadership is not None:
                    await self._leading.run(self.leadership.release)
                await asyncio.sleep(1.0)

    async def _lead_once(self) -> None:
        if self.leadership is not None:
            while not await self._leading.run(self.leadership.try_acquire):
                await asyncio.sleep(1.0)  # standby: try again shortly
            # Continue from the store: another instance may have led meanwhile.
            if self.relay is not None:
                await self.relay.lane.run(self.relay.reload)
            if self.processor is not None:
                await self._receiving.run(self.processor.reload)
        try:
            await self._connect()
            self._term_over = asyncio.Event()
            async with asyncio.TaskGroup() as group:
                group.create_task(self._for_term(self._status_loop()))
                group.create_task(self._for_term(self._heartbeat()))
                if self.relay is not None:
                    group.create_task(self._for_term(self._relay_loop()))
                if self.processor is not None:
                    group.create_task(self._for_term(self._control_loop()))
                    group.create_task(self._for_term(self._receiver_loop()))
        except* LostLeadership:
            log.warning("%s %s: stepped down; standing by", self.service, self.place)
        finally:
            await self._disconnect()

    async def _for_term(self, loop: Awaitable[None]) -> None:
        """Runs one loop of this term. When one ends (the heartbeat's lost lock, an error), the
        term is over and every other loop ends at its next turn, whether or not the group's
        cancellation reached it: Python 3.11's `asyncio.wait_for` returns a result that came at
        the moment it was cancelled, and nats-py turns some cancellations into errors of its own
        that a loop which outlives errors catches. One such loop kept the group (and the place)
        standing by for good, its lock free and nobody leading."""
        try:
            await loop
        finally:
            self._term_over.set()

    def _running(self) -> bool:
        return not (self._stop.is_set() or self._term_over.is_set())

    async def _heartbeat(self) -> None:
        while self._running():
            await asyncio.sleep(1.0)
            if self.leadership is not None and not await self._leading.run(self.leadership.confirm):
                raise LostLeadership()

    async def _connect(self) -> None:
        delay = 0.5
        while not self._stop.is_set():
            try:
                self.nc = await connect(
                    self.servers, name=f"liangdi-{self.service}-{self.place}", owner=self.place
                )
                self.js = self.nc.jetstream(timeout=10)
                await ensure_topology(self.js)
                self.ready.set()
                return
            except Exception as exc:  # NATS not up yet: keep serving HTTP, retry
                log.warning("NATS not reachable (%s); retrying in %.1fs", exc, delay)
                await self._disconnect()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _disconnect(self) -> None:
        nc, self.nc = self.nc, None
        if nc is not None and not nc.is_closed:
            with contextlib.suppress(Exception):
                # close, not drain: draining a pull subscription waits ~30 s for nothing
                await asyncio.wait_for(nc.close(), timeout=5)

    async def _relay_loop(self) -> None:
        assert self.relay is not None and self.js is not None
        while self._running():
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

    def status(self) -> dict[str, Any]:
        status: dict[str, Any] = {
            "service": self.service,
            "place": self.place,
            "connected": self.connected,
            "role": self.role,
            "link_error": self.link_error,
            "instance": self.leadership.instance if self.leadership else None,
            "at": time.time(),
        }
        if self.relay is not None:
            status["relay"] = self.relay.status()
        if self.processor is not None:
            status["receiver"] = self.processor.status() | {
                "last_error": self.receiver_error,
                "last_error_at": self.receiver_error_at,
                "errors": self.receiver_errors,
                "resubscribes": self.resubscribes,
                "batches_undone": self.processor.undone,
                "paused": self.paused,
                "paused_sources": sorted(self.paused_sources),
            }
            if self.processor.checks_apart is not None:
                status["receiver"]["checks_apart"] = self.processor.checks_apart.status()
        return status

    async def _status_loop(self) -> None:
        while self._running():
            try:
                assert self.js is not None
                kv = await self.js.key_value(STATUS_BUCKET)
                await kv.put(f"{self.service}.{self.place}", json.dumps(self.status()).encode())
            except Exception as exc:
                log.debug("status not published: %s", exc)
            await asyncio.sleep(1.0)


__all__ = ["PlaceAgent", "APPLIED", "DUPLICATE", "PARKED", "DEAD", "RETRY_HEADER"]
