"""The composition root of the sync service (the exchange operators' service)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from services.sync.adapters.observer import ExchangeObserver
from shared.config import SyncSettings
from shared.eventstore import sqlalchemy_engine


class SyncRuntime:
    place = None

    def __init__(self, settings: SyncSettings):
        self.settings = settings
        self.jwt_secret = settings.jwt_secret
        self.engine = sqlalchemy_engine(settings.database_url)
        self.observer = ExchangeObserver(settings.nats_servers)
        self._started = False

    async def start(self) -> None:
        await self.observer.start()
        self._started = True

    async def stop(self) -> None:
        await self.observer.stop()
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
