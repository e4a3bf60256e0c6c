"""What an outflow or inflow process runs besides HTTP: its event store, read models and link.

Both place services have the same shape; each passes in its own application class, projector,
exporter and importer (its bootstrap), and gets the same lifecycle.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from shared.config import PlaceServiceSettings
from shared.eventsourced import LiangdiApplication
from shared.eventstore import eventsourcing_env, sqlalchemy_engine
from shared.messaging.agent import PlaceAgent
from shared.messaging.antientropy import AntiEntropyResponder
from shared.messaging.leader import Leadership
from shared.messaging.metrics import link_registry
from shared.messaging.receiver import Importer, InboundProcessor
from shared.messaging.relay import Exporter, Relay
from shared.positions import PositionStore
from shared.projection import Projector
from shared.security.signing import Signer, TrustRegistry

log = logging.getLogger(__name__)


class PlaceRuntime:
    def __init__(
        self,
        *,
        settings: PlaceServiceSettings,
        service: str,
        inbound_direction: str,
        application_class: type[LiangdiApplication],
        projector_class: Callable[[LiangdiApplication, sa.Engine, PositionStore], Projector],
        exporter: Callable[[LiangdiApplication], Exporter],
        importer: Callable[[LiangdiApplication], Importer],
        app_kwargs: dict[str, Any] | None = None,
    ):
        self.settings, self.service, self.place = settings, service, settings.place
        self.jwt_secret = settings.jwt_secret
        # The engine first: it creates the PostgreSQL schema the event store's tables go into.
        self.engine = sqlalchemy_engine(settings.database_url)
        env = eventsourcing_env(settings.database_url, settings.cipher_key)
        self.app = application_class(env=env, **(app_kwargs or {}))
        self.positions = PositionStore(self.engine)
        self.projector = projector_class(self.app, self.engine, self.positions)
        signer = Signer(self.place, settings.signing_key) if settings.signing_key else None
        trust = TrustRegistry.parse(settings.trusted_keys) if settings.trusted_keys else None
        if settings.environment == "production" and (signer is None or trust is None):
            raise ValueError("production needs LIANGDI_SIGNING_KEY and LIANGDI_TRUSTED_KEYS")
        self.relay = Relay(
            app=self.app,
            exporter=exporter(self.app),
            positions=self.positions,
            place=self.place,
            service=service,
            signer=signer,
        )
        self.processor = InboundProcessor(
            app=self.app,
            importer=importer(self.app),
            place=self.place,
            direction=inbound_direction,
            trust=trust,
            park_timeout=settings.park_timeout_seconds,
        )
        # One active link per store: PostgreSQL advisory lock; SQLite is single-process.
        self.leadership = Leadership(settings.database_url, self.relay.name)
        self.agent = PlaceAgent(
            servers=settings.nats_servers,
            service=service,
            place=self.place,
            relay=self.relay,
            processor=self.processor,
            poll_interval=settings.poll_interval,
            leadership=self.leadership,
        )
        self.metrics_registry = link_registry(self.agent.status)
        self.antientropy = AntiEntropyResponder(self)  # answers the sync service's digests
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._started = False

    async def start(self) -> None:
        await asyncio.to_thread(self.projector.catch_up)
        self._tasks.append(
            asyncio.create_task(self.projector.run_forever(self.settings.poll_interval, self._stop))
        )
        if self.settings.sync_enabled:
            await self.agent.start()
            await self.antientropy.start()
        self._started = True

    async def stop(self) -> None:
        self._stop.set()
        await self.antientropy.stop()
        await self.agent.stop()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.app.close()
        self.engine.dispose()

    def after_write(self) -> None:
        """Read-your-writes for the caller, and an immediate nudge to the relay."""
        self.projector.catch_up()
        self.agent.wake()

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            store = "ok"
        except Exception as exc:
            store = f"error: {type(exc).__name__}"
        detail = {
            "service": self.service,
            "place": self.place,
            "store": store,
            "nats": "connected" if self.agent.connected else "disconnected",
            "link": self.agent.role,
        }
        return self._started and store == "ok", detail
