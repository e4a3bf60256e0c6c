"""Instances of one place telling each other that its event log grew (PostgreSQL LISTEN/NOTIFY).

A place may run several instances on one store: replicas that serve HTTP, and the one that
leads the link, which may be a process of its own so that requests cannot take the link's
interpreter (docs/operations.md, "The link in a process of its own"). A write answered by one
instance must reach the leading instance's relay at once, and a fact its receiver applied must
reach the read models of the instance an office reads from, not only at their next poll.

Each instance announces, after it wrote, on a channel of its store (one per PostgreSQL schema),
and listens on it. Announcements are coalesced: one `NOTIFY` carries every write since the last
one. A lost announcement costs only time: the poll (`LIANGDI_POLL_INTERVAL`) still runs. SQLite is
one process, where the in-process nudge is all there is. (The event store's own `NOTIFY` on each
insert names its table, `outflowapplication_events`, not the schema: every place of one kind in
a database shares that channel, and each would wake at every other's writes.)
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import threading
import uuid
from collections.abc import Callable
from urllib.parse import parse_qs, urlparse

import psycopg

log = logging.getLogger(__name__)
LISTEN_TIMEOUT = 1.0  # how often the listening thread looks whether it should stop


def channel_of(database_url: str) -> str:
    """The store's channel: NOTIFY reaches a whole database, and places share one in schemas."""
    schema = parse_qs(urlparse(database_url).query).get("schema", ["public"])[0]
    return "liangdi_log_" + hashlib.sha256(schema.encode()).hexdigest()[:20]


class LogSignal:
    """Announces this instance's writes and calls `on_grown` (in the event loop) when another
    instance of the same store announced its own."""

    def __init__(self, database_url: str, on_grown: Callable[[], None], application_name: str):
        self.dsn = database_url.split("?")[0].replace("postgresql+psycopg://", "postgresql://")
        self.channel, self.on_grown = channel_of(database_url), on_grown
        self.application_name = application_name
        self.instance = uuid.uuid4().hex  # its own announcements are not news to it
        self._pending = asyncio.Event()
        self._stopping = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._announcer: asyncio.Task[None] | None = None
        self._listener: threading.Thread | None = None
        self._sender: psycopg.Connection[tuple[object, ...]] | None = None
        self.heard = self.announced = 0

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._announcer = asyncio.create_task(self._announce_forever())
        # A thread of its own: it waits on the socket for good, and must not hold a slot of the
        # event loop's executor, which the read models and the link need.
        self._listener = threading.Thread(target=self._listen_forever, daemon=True)
        self._listener.start()

    async def stop(self) -> None:
        self._stopping.set()
        if self._announcer is not None:
            self._announcer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._announcer
        if self._listener is not None:
            await asyncio.to_thread(self._listener.join, LISTEN_TIMEOUT * 2)
        if self._sender is not None:
            self._sender.close()

    def announce(self) -> None:
        """Called in the event loop after a write: the next announcement carries it."""
        self._pending.set()

    async def _announce_forever(self) -> None:
        while not self._stopping.is_set():
            await self._pending.wait()
            self._pending.clear()  # writes from now on need another announcement
            try:
                await asyncio.to_thread(self._notify)
                self.announced += 1
            except Exception as exc:  # the poll still finds the write; say so and go on
                log.warning("log signal: announcement not sent: %s", exc)
                await asyncio.sleep(1.0)

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            self.dsn, autocommit=True, application_name=self.application_name, connect_timeout=5
        )

    def _notify(self) -> None:
        if self._sender is None or self._sender.closed:
            self._sender = self._connect()
        try:
            self._sender.execute("SELECT pg_notify(%s, %s)", (self.channel, self.instance))
        except psycopg.Error:
            self._sender.close()  # connected again for the next announcement
            raise

    def _listen_forever(self) -> None:
        while not self._stopping.is_set():
            try:
                with self._connect() as conn:
                    conn.execute(f'LISTEN "{self.channel}"')
                    while not self._stopping.is_set():
                        for notice in conn.notifies(timeout=LISTEN_TIMEOUT):
                            if notice.payload != self.instance:
                                self._heard()
            except Exception as exc:  # the database went away: listen again shortly
                log.warning("log signal: not listening (%s); again in 1 s", exc)
                self._stopping.wait(1.0)

    def _heard(self) -> None:
        self.heard += 1
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has ended: the service stops
                self._loop.call_soon_threadsafe(self.on_grown)
