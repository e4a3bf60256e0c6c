"""A place service's read models, each independent: catching up, halting on a poison event,
and the operators' ways back (retry, skip with an audit record, rebuild). See docs/operations.md.

A halt is kept in `liangdi_read_model_failures` (so it survives restarts and every instance of
the service sees it); the row also records how it was resolved, by whom and why.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from typing import Any

import sqlalchemy as sa

from shared.eventsourced import LiangdiApplication
from shared.positions import (
    HALTED,
    REBUILT,
    RETRIED,
    SKIPPED,
    PositionStore,
    failures,
    now,
)
from shared.projection import EventFailed, ReadModel, batch_size

log = logging.getLogger(__name__)

# Set per request by shared.http.read_models: the names of read models a write left behind.
behind_in_request: ContextVar[list[str] | None] = ContextVar("behind_in_request", default=None)


def error_text(exc: BaseException) -> str:
    """The driver's message without SQL or bound parameters (which may hold personal data)."""
    cause = getattr(exc, "orig", None) or exc
    first = (str(cause).strip().splitlines() or [""])[0]
    return f"{type(cause).__name__}: {first}"[:1000]


class Refused(Exception):
    """An operator's action that does not fit the read model's state (HTTP 409)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


class ReadModelSet:
    """The read models of one place service. Nothing here raises into a route."""

    def __init__(
        self,
        app: LiangdiApplication,
        engine: sa.Engine,
        positions: PositionStore,
        service: str,
        classes: Sequence[type[ReadModel]],
    ):
        self.app, self.engine, self.positions, self.service = app, engine, positions, service
        self.name = f"read-models:{service}"
        failures.create(engine, checkfirst=True)
        self.models = {cls.name: cls(app, engine, service) for cls in classes}
        self.last_error: dict[str, str] = {}  # transient errors, cleared by the next success
        self.stopping = False  # set on shutdown: a long catch-up ends between batches
        with engine.begin() as conn:
            for model in self.models.values():
                self._seed(conn, model)

    def _seed(self, conn: sa.Connection, model: ReadModel) -> None:
        # Once only: a read model with a position of its own (even 0, mid-rebuild) keeps it.
        if model.legacy_position is None or self.positions.exists(model.key, conn):
            return
        legacy = self.positions.get(model.legacy_position, conn)
        if legacy:
            self.positions.set(model.key, legacy, conn)

    def __iter__(self) -> Iterator[ReadModel]:
        return iter(self.models.values())

    def get(self, name: str) -> ReadModel | None:
        return self.models.get(name)

    # -- catching up -------------------------------------------------------------------------

    def run_once(self, model: ReadModel, limit: int | None = None) -> int:
        """Applies one batch; on a poison event applies what precedes it, then halts there."""
        limit = limit or batch_size(self.engine)
        with model.lock:
            while True:
                try:
                    with self.engine.begin() as conn:
                        if self.halted(conn, model.name) is not None:
                            return 0
                        position = self.positions.lock(conn, model.key)
                        last, handled = model.apply(
                            conn, position, limit, self._skipped(conn, model)
                        )
                        if last != position:
                            self.positions.set(model.key, last, conn)
                    model.handled_since_start += handled
                    self.last_error.pop(model.name, None)
                    return last - position
                except EventFailed as failed:
                    if failed.index:  # the batch rolled back: first the events before it
                        limit = failed.index
                        continue
                    self._halt(model, failed)
                    return 0

    def catch_up_one(self, model: ReadModel, max_batches: int | None = None) -> None:
        batches = 0
        try:
            while not self.stopping and self.run_once(model):
                batches += 1
                if max_batches is not None and batches >= max_batches:
                    return
        except Exception as exc:  # transient (database busy, connection lost): retried later
            self.last_error[model.name] = error_text(exc)
            log.warning("read model %s could not catch up: %s", model.key, error_text(exc))

    def catch_up(self) -> None:
        for model in self:
            self.catch_up_one(model)

    def after_write(self) -> list[str]:
        """Read-your-writes: the names of read models still behind the write (never raises)."""
        try:
            head = self.head()
            behind = []
            for model in self:
                # Bounded: a read model being rebuilt is caught up by the background loop.
                self.catch_up_one(model, max_batches=10)
                if self.positions.get(model.key) < head:
                    behind.append(model.name)
        except Exception as exc:
            log.warning("read models after a write: %s", error_text(exc))
            behind = list(self.models)
        holder = behind_in_request.get()
        if holder is not None:
            holder.extend(name for name in behind if name not in holder)
        return behind

    # -- state -------------------------------------------------------------------------------

    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    @property
    def position(self) -> int:
        """The lowest position of all (for the status endpoint's single figure)."""
        return min((self.positions.get(m.key) for m in self), default=0)

    @property
    def handled_since_start(self) -> int:
        """Events gone through since start (each read model goes through every event)."""
        return max((m.handled_since_start for m in self), default=0)

    def halted(self, conn: sa.Connection, name: str) -> dict[str, Any] | None:
        row = conn.execute(
            sa.select(failures)
            .where(failures.c.read_model == name, failures.c.state == HALTED)
            .order_by(failures.c.id.desc())
            .limit(1)
        ).first()
        return dict(row._mapping) if row else None

    def _skipped(self, conn: sa.Connection, model: ReadModel) -> frozenset[int]:
        query = sa.select(failures.c.position).where(
            failures.c.read_model == model.name, failures.c.state == SKIPPED
        )
        return frozenset(conn.execute(query).scalars())

    def _halt(self, model: ReadModel, failed: EventFailed) -> None:
        n = failed.notification
        log.error(
            "read model %s halted at position %s (%s): %s",
            model.key,
            n.id,
            n.topic,
            error_text(failed.error),
        )
        with self.engine.begin() as conn:
            self.positions.lock(conn, model.key)  # serialises with other instances
            if self.halted(conn, model.name) is not None:
                return
            conn.execute(
                failures.insert().values(
                    read_model=model.name,
                    position=n.id,
                    event_type=n.topic.rsplit(":", 1)[-1][:200],
                    originator_id=str(n.originator_id),
                    originator_version=n.originator_version,
                    error=error_text(failed.error),
                    failed_at=now(),
                    state=HALTED,
                )
            )

    def status(self) -> list[dict[str, Any]]:
        head = self.head()
        out = []
        with self.engine.connect() as conn:
            for model in self:
                position = self.positions.get(model.key, conn)
                failure = self.halted(conn, model.name)
                history = conn.execute(
                    sa.select(failures)
                    .where(failures.c.read_model == model.name, failures.c.state != HALTED)
                    .order_by(failures.c.id.desc())
                    .limit(20)
                ).all()
                out.append(
                    {
                        "name": model.name,
                        "tables": [t.name for t in model.tables],
                        "position": position,
                        "head": head,
                        "lag": max(head - position, 0),
                        "state": HALTED if failure else "running",
                        "failure": failure,
                        "last_error": self.last_error.get(model.name),
                        "handled_since_start": model.handled_since_start,
                        "history": [dict(row._mapping) for row in history],
                    }
                )
        return out

    def halted_all(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [f for m in self if (f := self.halted(conn, m.name)) is not None]

    # -- the operators' ways back --------------------------------------------------------------

    def _resolve(self, conn: sa.Connection, row_id: int, state: str, by: str, reason: str) -> None:
        conn.execute(
            failures.update()
            .where(failures.c.id == row_id)
            .values(state=state, resolved_by=by, resolved_at=now(), reason=reason)
        )

    def _halted_or_refuse(self, conn: sa.Connection, model: ReadModel) -> dict[str, Any]:
        failure = self.halted(conn, model.name)
        if failure is None:
            raise Refused("read_model.not_halted", f"read model {model.name} is not halted")
        return failure

    def retry(self, model: ReadModel, by: str, reason: str) -> None:
        """After a fix is deployed: resume from the failed event (it halts again if it fails)."""
        with model.lock, self.engine.begin() as conn:
            failure = self._halted_or_refuse(conn, model)
            self._resolve(conn, failure["id"], RETRIED, by, reason)
        self.catch_up_one(model, max_batches=10)

    def skip(self, model: ReadModel, position: int, by: str, reason: str) -> None:
        """Waives the halted event for this read model only; kept for later rebuilds too."""
        with model.lock, self.engine.begin() as conn:
            failure = self._halted_or_refuse(conn, model)
            if failure["position"] != position:
                raise Refused(
                    "read_model.wrong_position",
                    f"read model {model.name} is halted at position {failure['position']}, "
                    f"not {position}",
                )
            self._resolve(conn, failure["id"], SKIPPED, by, reason)
        self.catch_up_one(model, max_batches=10)

    def rebuild(self, model: ReadModel, by: str, reason: str) -> None:
        """Empties the tables and replays from 0 (in the background); skipped events stay so."""
        with model.lock, self.engine.begin() as conn:
            self.positions.lock(conn, model.key)
            failure = self.halted(conn, model.name)
            if failure is not None:
                self._resolve(conn, failure["id"], REBUILT, by, reason)
            recreate_tables(conn, model)
            self.positions.set(model.key, 0, conn)
        log.warning("read model %s rebuilt from 0 by %s: %s", model.key, by, reason)


def recreate_tables(conn: sa.Connection, model: Any) -> None:
    """Drops a read model's tables, and those an older release of it kept (`retired_tables`,
    names), then creates them as the running release declares them: a rebuild leaves no old
    column or table behind (shared/schema_upgrade.py only ever adds)."""
    quote = conn.dialect.identifier_preparer.quote
    for name in getattr(model, "retired_tables", ()):
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {quote(name)}"))
    for table in reversed(model.tables):
        table.drop(conn, checkfirst=True)
    for table in model.tables:
        table.create(conn)
