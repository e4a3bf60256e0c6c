"""The reconciler: observes every fact on the exchange and applies it once to the sync record.

A durable pull consumer `sync-reconciler` reads `liangdi.ev.>`. Messages are checked like a
place's receiver does (envelope, signature when keys are configured, schema) and ordered by the
same prevseq rule, but per route: a sender's aggregate may send to several places, each route
with its own prevseq chain, so the position key is `<to>/<from>:<stream>`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import sqlalchemy as sa
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from services.sync.adapters.reconciliation_imports import importer_for
from services.sync.adapters.reconciliation_projection import ReconciliationProjector
from services.sync.application import SyncApplication
from services.sync.domain.assessment import DivergencePolicy
from shared.config import SyncSettings
from shared.contracts.envelope import Envelope
from shared.eventstore import application_name, eventsourcing_env
from shared.messaging.connection import connect as nats_connect
from shared.messaging.connection import nats_access
from shared.messaging.pull import RETRY_HEADER
from shared.messaging.receiver import APPLIED, DUPLICATE, PARKED, InboundProcessor
from shared.messaging.topology import EVENTS_STREAM, ensure_topology
from shared.positions import PositionStore
from shared.security.live_trust import trust_registry
from shared.stopping import end_loops

log = logging.getLogger(__name__)
DURABLE = "sync-reconciler"
MAX_REJECTIONS = 50


def reconciler_consumer() -> ConsumerConfig:
    return ConsumerConfig(
        durable_name=DURABLE,
        filter_subject="liangdi.ev.>",
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=30.0,
        max_ack_pending=512,
    )


class ReconcilerProcessor(InboundProcessor):
    """The receiver's rules for a reader of every place's facts."""

    def __init__(self, **kwargs: Any):
        super().__init__(place="*", direction="*", **kwargs)
        self.rejections: list[dict[str, Any]] = []

    def tracking_name(self, envelope: Envelope) -> str:
        return f"{envelope.to_place}/{envelope.tracking_name}"

    def _authenticate(self, envelope: Envelope) -> str:
        return self._unsigned(envelope)  # every place's facts: no address of its own to check


class Reconciliation:
    """The reconciliation component of the sync service: record, read model and consumer."""

    def __init__(self, settings: SyncSettings, engine: sa.Engine):
        self.settings, self.engine = settings, engine
        self.app = SyncApplication(
            env=eventsourcing_env(
                settings.database_url,
                settings.cipher_key.get_secret_value(),
                application_name("sync"),
            ),
            policy=DivergencePolicy(
                steps=settings.divergence_steps,
                not_competent_diverges=settings.not_competent_diverges,
            ),
            evaluation_deadline=settings.evaluation_deadline,
            reporting_deadline_days=settings.reporting_deadline_days,
            receipt_due_days=settings.receipt_due_days,
        )
        self.positions = PositionStore(engine)
        self.projector = ReconciliationProjector(self.app, engine, self.positions)
        trust = trust_registry(settings)  # re-reads LIANGDI_TOPOLOGY_FILE when it changes
        self.processor = ReconcilerProcessor(
            app=self.app,
            importer=importer_for(self.app),
            trust=trust,
            park_timeout=settings.park_timeout_seconds,
        )
        self.nc: Client | None = None
        self.js: JetStreamContext | None = None
        self.error: str | None = None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def connected(self) -> bool:
        return self.nc is not None and self.nc.is_connected

    async def start(self) -> None:
        await asyncio.to_thread(self.projector.catch_up)
        self._tasks = [
            asyncio.create_task(
                self.projector.run_forever(self.settings.poll_interval, self._stop)
            ),
            asyncio.create_task(self._consume(), name="reconciler"),
        ]

    async def stop(self) -> None:
        self._stop.set()
        await end_loops(self._tasks)  # a catch-up or a fact in a thread ends on an open store
        if self.nc is not None and not self.nc.is_closed:
            with contextlib.suppress(Exception):
                await self.nc.close()
        self.app.close()

    def catch_up(self) -> None:
        """Before a read of the read model: it then holds every fact the reconciler has applied
        (and counted) so far, not only those of the last poll."""
        try:
            self.projector.catch_up()
        except Exception:  # the poll loop retries and logs; the read serves what is there
            log.warning("reconciliation read model behind: catch-up failed", exc_info=True)

    async def connect(self) -> JetStreamContext:
        if self.js is None or self.nc is None or self.nc.is_closed:
            self.nc = await nats_connect(
                nats_access(self.settings), name="liangdi-sync-reconciler", owner="sync"
            )
            self.js = self.nc.jetstream(timeout=10)
            await ensure_topology(self.js)
        return self.js

    async def _consume(self) -> None:
        config = reconciler_consumer()
        while not self._stop.is_set():
            try:
                js = await self.connect()
                sub = await js.pull_subscribe(
                    "liangdi.ev.>", durable=DURABLE, stream=EVENTS_STREAM, config=config
                )
                while not self._stop.is_set():
                    try:
                        messages = await sub.fetch(batch=128, timeout=1.0)
                    except TimeoutError:
                        continue
                    for msg in messages:
                        await self._handle(msg)
                    self.error = None
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.error = f"{type(exc).__name__}: {exc}"
                log.warning("reconciler: %s; resubscribing", self.error)
                await asyncio.sleep(1.0)

    async def _handle(self, msg: Msg) -> None:
        retry_of = (msg.headers or {}).get(RETRY_HEADER)
        outcome = await asyncio.to_thread(self.processor.process, msg.data, retry_of)
        if outcome.result == PARKED:
            await msg.nak(delay=1.0)
            return
        if outcome.result not in (APPLIED, DUPLICATE):
            # The place's own receiver dead-letters it; the reconciler only remembers why.
            envelope = outcome.envelope
            self.processor.rejections = (
                self.processor.rejections
                + [
                    {
                        "event_id": envelope.id if envelope else None,
                        "type": envelope.type if envelope else None,
                        "subject": msg.subject,
                        "reason": outcome.reason[:300],
                    }
                ]
            )[-MAX_REJECTIONS:]
        await msg.ack()

    def status(self) -> dict[str, Any]:
        return {
            "consumer": DURABLE,
            "connected": self.connected,
            "error": self.error,
            "projection_position": self.projector.position,
            "counts": dict(self.processor.counts),
            "parked_now": len(self.processor.parked_since),
            "recent_rejections": list(self.processor.rejections),
        }
