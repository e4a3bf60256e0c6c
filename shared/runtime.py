"""What an outflow or inflow process runs besides HTTP: its event store, read models and link.

Both place services have the same shape; each passes in its own application class, read
models, exporter and importer (its bootstrap), and gets the same lifecycle.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from shared.config import PlaceServiceSettings
from shared.eventsourced import LiangdiApplication
from shared.eventstore import application_name, eventsourcing_env, sqlalchemy_engine
from shared.lanes import Lane
from shared.log_signal import LogSignal
from shared.messaging.agent import PlaceAgent
from shared.messaging.antientropy import AntiEntropyResponder
from shared.messaging.checks_apart import ChecksApart
from shared.messaging.connection import nats_access
from shared.messaging.leader import Leadership
from shared.messaging.metrics import link_registry
from shared.messaging.receiver import Importer, InboundProcessor
from shared.messaging.relay import Exporter, Relay
from shared.positions import PositionStore
from shared.projection import ReadModel
from shared.read_models import ReadModelSet, waited_in_request
from shared.read_models_metrics import ReadModelCollector
from shared.security.live_trust import sealer_for, trust_registry
from shared.security.signing import Signer
from shared.stopping import end_loops
from shared.store_setup import setting_up
from shared.validation.places import load_codes

log = logging.getLogger(__name__)


class PlaceRuntime:
    def __init__(
        self,
        *,
        settings: PlaceServiceSettings,
        service: str,
        inbound_direction: str,
        application_class: type[LiangdiApplication],
        read_models: Sequence[type[ReadModel]],
        exporter: Callable[[LiangdiApplication], Exporter],
        importer: Callable[[LiangdiApplication], Importer],
        app_kwargs: dict[str, Any] | None = None,
        duties: Sequence[Callable[[PlaceRuntime], Any]] = (),
    ):
        self.settings, self.service, self.place = settings, service, settings.place
        self.duties = tuple(duties)
        self.jwt_secret = settings.jwt_secret.get_secret_value()
        named = application_name(service, self.place)  # its sessions in pg_stat_activity
        # The engine first: it creates the PostgreSQL schema the event store's tables go into.
        self.engine = sqlalchemy_engine(settings.database_url, named)
        # Its tables, one instance of the store at a time (shared/store_setup.py).
        with setting_up(self.engine):
            cipher_key = settings.cipher_key.get_secret_value()
            env = eventsourcing_env(settings.database_url, cipher_key, named)
            if "POSTGRES_POOL_SIZE" in env:  # PostgreSQL: the pool is a setting of the service
                env["POSTGRES_POOL_SIZE"] = str(settings.event_store_pool_size)
                env["POSTGRES_MAX_OVERFLOW"] = str(settings.event_store_max_overflow)
            self.app = application_class(env=env, **(app_kwargs or {}))
            self.positions = PositionStore(self.engine)
            self.read_models = ReadModelSet(
                self.app, self.engine, self.positions, service, read_models
            )
            self.projector = self.read_models  # catch_up(), position: the status endpoints' view
            signing_key = settings.signing_key.get_secret_value()
            signer = Signer(self.place, signing_key) if signing_key else None
            trust = trust_registry(settings)  # re-reads LIANGDI_TOPOLOGY_FILE when it changes
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
                # Cumulative link counters (shared/messaging/linkstore.py).
                positions=self.positions,
            )
            # Personal fields travel sealed for the receiving place (docs/security.md).
            self.relay.sealer = self.processor.sealer = sealer_for(settings)
            if settings.checks_apart:  # a second interpreter for a backlog's checks
                self.processor.checks_apart = ChecksApart(settings, inbound_direction)
        # One active link per store: PostgreSQL advisory lock; SQLite is single-process.
        self.leadership = Leadership(settings.database_url, self.relay.name, named)
        self.agent = PlaceAgent(
            servers=nats_access(settings),
            service=service,
            place=self.place,
            relay=self.relay,
            processor=self.processor,
            poll_interval=settings.poll_interval,
            leadership=self.leadership,
        )
        self.metrics_registry = link_registry(self.agent.status)
        self.metrics_registry.register(ReadModelCollector(self.read_models, self.place))
        # Answers the sync service's digests, with an exporter of its own (see SentIndex).
        self.antientropy = AntiEntropyResponder(self, exporter(self.app))
        self._stop = asyncio.Event()
        # Set when the receiver applied a fact or a command wrote: the read models follow at
        # once, not at the next poll (a host's office sees an arrival as soon as it is stored).
        self._log_grew = asyncio.Event()
        self.agent.on_applied = self._wrote
        # Other instances of this place on the same store (HTTP replicas, a link process of its
        # own) hear of this one's writes and it of theirs (shared/log_signal.py).
        self.signal = (
            LogSignal(settings.database_url, self._follow, named)
            if self.engine.dialect.name == "postgresql"
            else None
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._projecting = Lane(f"read-models-{service}")  # not behind requests: lanes.py
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started = False

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()  # writes in worker threads nudge the read models
        if self.signal is not None:
            await self.signal.start()
        await asyncio.to_thread(load_codes)
        if self.settings.follow_read_models:
            # Never raises: a read model halted on a poison event stays halted, the service
            # starts.
            await asyncio.to_thread(self.read_models.catch_up)
            self._tasks.append(asyncio.create_task(self._project_forever()))
        if self.duties and self.settings.duty_interval_seconds > 0:
            self._tasks.append(asyncio.create_task(self._duties_forever()))
        if self.settings.sync_enabled:
            await self.agent.start()
            await self.antientropy.start()
        self._started = True

    async def stop(self) -> None:
        self._stop.set()
        self._log_grew.set()  # the projection loop ends without waiting out its poll
        self.read_models.stopping = True
        await self.antientropy.stop()
        await self.agent.stop()
        if self.signal is not None:
            await self.signal.stop()
        await end_loops(self._tasks)  # the projection's current batch ends on an open store
        self._projecting.close()
        self.app.close()
        self.engine.dispose()

    async def _project_forever(self) -> None:
        while not self._stop.is_set():
            self._log_grew.clear()  # what is written from now on gets another pass
            try:
                await self._projecting.run(self.read_models.catch_up)
            except Exception:  # never expected (catch_up keeps its errors); the loop must live
                log.exception("read models: background catch-up")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._log_grew.wait(), timeout=self.settings.poll_interval)

    async def _duties_forever(self) -> None:
        """What the place does by itself on a schedule, not only when someone calls for it.

        Only the instance that leads the link runs them, so two instances of a place never
        do the same duty at once; each duty is idempotent anyway (it acts once per occasion).
        """
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):  # first an interval: let the link settle
                await asyncio.wait_for(
                    self._stop.wait(), timeout=self.settings.duty_interval_seconds
                )
            if self._stop.is_set() or self.agent.role != "leader":
                continue
            for duty in self.duties:
                try:
                    await asyncio.to_thread(duty, self)
                except Exception:  # the next round tries again; the service goes on
                    log.exception("scheduled duty %s failed", getattr(duty, "__name__", duty))

    def after_write(self) -> None:
        """After a command: the read models and the relay are told at once, here and at the
        other instances of this place, and the caller goes on without waiting for them. Reads
        wait instead (`fresh_reads`), so a read model's pass is paid once by the reads that need
        it, not by every write (docs/performance.md)."""
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has ended: the service stops
                self._loop.call_soon_threadsafe(self._wrote)

    def _wrote(self) -> None:
        """In the event loop, after this instance wrote (a command, or a fact applied)."""
        self._follow()
        if self.signal is not None:
            self.signal.announce()

    def _follow(self) -> None:
        """The log grew, here or at another instance: the read models and the relay follow."""
        self._log_grew.set()
        self.agent.wake()

    def fresh_reads(self) -> list[str]:
        """Read-your-writes, paid by the reads: waits until every read model has passed the
        head of the event log as it is now, which holds this request's own write and every
        write answered before the request came, at this instance or another one.

        Never raises: the read models still behind after the wait are returned and reported
        to the caller in the `X-Liangdi-Read-Model: behind` header (docs/operations.md). An API
        read waited already (shared/http/read_models.py): it returns at once.
        """
        if waited_in_request.get():
            return []
        try:
            head = self.read_models.head()
        except Exception as exc:  # the store is unreachable: the read shows what it has
            log.warning("read models: the head of the log is unreadable: %s", exc)
            return self.read_models.reach(0, timeout=0)  # none reached: all reported behind
        return self.read_models.reach(head)

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            store = "ok"
        except Exception as exc:
            store = f"error: {type(exc).__name__}"
        detail: dict[str, Any] = {
            "service": self.service,
            "place": self.place,
            "store": store,
            "nats": "connected" if self.agent.connected else "disconnected",
            "link": self.agent.role,
        }
        ready = self._started and store == "ok"
        halted = self._halted() if store == "ok" else []
        if halted:  # degraded: writes are kept, some lists are stale until an operator acts
            detail["status"] = "degraded"
            detail["reason"] = "; ".join(
                f"read model {f['read_model']} halted at position {f['position']} "
                f"({f['event_type']}); see GET /admin/read-models"
                for f in halted
            )
        else:
            detail["status"] = "ready" if ready else "unavailable"
        return ready and not halted, detail

    def _halted(self) -> list[dict[str, Any]]:
        try:
            return self.read_models.halted_all()
        except Exception as exc:  # the store answered a moment ago; say so rather than fail
            log.warning("readiness: read model state unreadable: %s", exc)
            return []
