"""The composition root of the sync service (the exchange operators' service).

`SyncRuntime` is deliberately plain: parts are attributes, and `start`/`stop` run every part in
`self.parts` (anything with async `start()` and `stop()`), so another part of the service (the
reconciliation) can add itself without changing this file's shape.
"""

from __future__ import annotations

import contextlib
from typing import Any

import sqlalchemy as sa

from services.sync.adapters.antientropy import AntiEntropy
from services.sync.adapters.control import Controller
from services.sync.adapters.deadletters import DeadLetterStore
from services.sync.adapters.exchange_metrics import exchange_registry
from services.sync.adapters.links import links_view
from services.sync.adapters.observer import ExchangeObserver
from services.sync.adapters.reconciliation import Reconciliation
from shared.config import SyncSettings
from shared.eventstore import sqlalchemy_engine


class SyncRuntime:
    place = None

    def __init__(self, settings: SyncSettings):
        self.settings = settings
        self.jwt_secret = settings.jwt_secret
        self.engine = sqlalchemy_engine(settings.database_url)
        self.deadletters = DeadLetterStore(self.engine, settings.cipher_key)
        self.observer = ExchangeObserver(settings.nats_servers, self.deadletters)
        self.controller = Controller(lambda: self.observer.js, self.deadletters)
        self.metrics_registry = exchange_registry(self.links, self.deadletters.counts)
        self.parts: list[Any] = [self.observer]
        self.reconciliation = Reconciliation(settings, self.engine)
        self.antientropy = AntiEntropy(settings, self.reconciliation)
        self.parts += [self.reconciliation, self.antientropy]
        self._started = False

    def links(self) -> list[dict[str, Any]]:
        observer = self.observer
        return links_view(
            observer.statuses,
            observer.consumers,
            observer.control,
            self.deadletters.summary(),
            observer.throughput,
        )

    async def start(self) -> None:
        for part in self.parts:
            await part.start()
        self._started = True

    async def stop(self) -> None:
        for part in reversed(self.parts):
            with contextlib.suppress(Exception):
                await part.stop()
        self.engine.dispose()

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            store = "ok"
        except Exception as exc:
            store = f"error: {type(exc).__name__}"
        nats = "connected" if self.observer.connected else "disconnected"
        return self._started and store == "ok", {"service": "sync", "store": store, "nats": nats}


def bootstrap(settings: SyncSettings | None = None) -> SyncRuntime:
    return SyncRuntime(settings or SyncSettings())
