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
from services.sync.adapters.gaps import GapStore
from services.sync.adapters.links import Sight, links_view
from services.sync.adapters.observer import ExchangeObserver
from services.sync.adapters.places import Places, parse_places
from services.sync.adapters.reconciliation import Reconciliation
from shared.config import SyncSettings
from shared.eventstore import application_name, sqlalchemy_engine
from shared.messaging.connection import nats_access
from shared.store_setup import setting_up
from shared.topology_file import places_spec


class SyncRuntime:
    place = None

    def __init__(self, settings: SyncSettings):
        self.settings = settings
        self.jwt_secret = settings.jwt_secret.get_secret_value()
        self.engine = sqlalchemy_engine(settings.database_url, application_name("sync"))
        # Its tables, one instance at a time (shared/store_setup.py).
        with setting_up(self.engine):
            self.deadletters = DeadLetterStore(self.engine, settings.cipher_key.get_secret_value())
            self.gaps = GapStore(self.engine)
            self.reconciliation = Reconciliation(settings, self.engine)
        self.observer = ExchangeObserver(nats_access(settings), self.deadletters)
        self.places = Places(
            parse_places(
                settings.places, settings.trusted_keys, places_spec(settings.topology_file)
            ),
            lambda: self.observer.statuses,
            self.observer.has_status,
        )
        self.controller = Controller(self._js, self.deadletters, self.gaps, self.places)
        self.metrics_registry = exchange_registry(self.links, self.deadletters.counts)
        self.parts: list[Any] = [self.observer]
        self.antientropy = AntiEntropy(settings, self.reconciliation, on_link=self._agreed)
        self.parts += [self.reconciliation, self.antientropy]
        self._started = False

    def _js(self) -> Any:
        # Actions need a live connection: a lost one answers 503 at once, not after a timeout.
        return self.observer.js if self.observer.connected else None

    def _agreed(self, link: dict[str, Any], since: float) -> None:
        if link.get("agreed"):
            self.gaps.close_agreed(link["direction"], link["from_place"], link["to_place"], since)

    def links(self) -> list[dict[str, Any]]:
        observer, settings = self.observer, self.settings
        totals: dict[tuple[str, str, str], int] = {}
        for (direction, from_place, to_place, _), count in self.deadletters.counts().items():
            key = (direction, from_place, to_place)
            totals[key] = totals.get(key, 0) + count
        # Copies (atomic under the GIL): the observer updates these on the event loop meanwhile.
        sight = Sight(
            observed_at=dict(observer.observed_at),
            problem=observer.problem(settings.status_stale_seconds),
            stale_after=settings.status_stale_seconds,
            error_hold=settings.error_hold_seconds,
            stream_counts=dict(observer.stream_counts),
            dead_letter_totals=totals,
            gaps=self.gaps.open_gaps(),
            places=set(self.places.known()),
        )
        return links_view(
            dict(observer.statuses),
            dict(observer.consumers),
            dict(observer.control),
            self.deadletters.summary(),
            observer.throughput,
            sight,
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
        # The exchange's operators are blind without NATS: not ready, and say why.
        problem = self.observer.problem(self.settings.status_stale_seconds)
        nats = "connected" if self.observer.connected else "disconnected"
        ready = self._started and store == "ok" and problem is None
        reconciler = "connected" if self.reconciliation.connected else "disconnected"
        detail = {"service": "sync", "store": store, "nats": nats, "reconciler": reconciler}
        if not ready:
            reasons = [r for r in (problem, store != "ok" and f"store {store}") if r]
            if not self._started:
                reasons.insert(0, "starting")
            detail |= {"status": "degraded", "reason": "; ".join(reasons)}
        return ready, detail


def bootstrap(settings: SyncSettings | None = None) -> SyncRuntime:
    return SyncRuntime(settings or SyncSettings())
