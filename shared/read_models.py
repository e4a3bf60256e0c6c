"""A place service's read models, each independent: catching up, read-your-writes, and halting
on a poison event. What operators see of them and do after a halt is in
`shared.read_model_operations` (docs/operations.md, "Read models").
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextvars import ContextVar

import sqlalchemy as sa

from shared.eventsourced import LiangdiApplication
from shared.positions import (
    HALTED,
    SKIPPED,
    PositionStore,
    failures,
    now,
)
from shared.positions import positions as positions_table
from shared.projection import Batches, EventFailed, ReadModel, WritesFailed, batch_size
from shared.read_model_operations import OperatorView, Refused
from shared.row_writes import Writes, update_row

log = logging.getLogger(__name__)
__all__ = ["ReadModelSet", "Refused", "behind_in_request", "error_text", "waited_in_request"]

# Batches per read model in one catch-up pass: bounds how long a writer's pass can take while a
# read model is rebuilt (the background loop carries on with the next pass).
PASS_BATCHES = 10
AT_END, BOUNDED, SHORT = "at end", "bounded", "short"  # how a catch-up of one read model ended
# Asked at every pass and batch: built once (docs/performance.md, "Tenth pass").
_POSITIONS = sa.select(positions_table.c.name, positions_table.c.position).where(
    positions_table.c.name.in_(sa.bindparam("keys", expanding=True))
)
_FAILURES = sa.select(failures.c.state, failures.c.position).where(
    failures.c.read_model == sa.bindparam("name"), failures.c.state.in_((HALTED, SKIPPED))
)

# Set per request by shared.http.read_models: the names of read models a write left behind.
behind_in_request: ContextVar[list[str] | None] = ContextVar("behind_in_request", default=None)
# Set for an API read once it waited for the read models: it writes nothing, so a second wait
# in the same request (a route's own query helper) would only ask the head of the log again.
waited_in_request: ContextVar[bool] = ContextVar("waited_in_request", default=False)


def error_text(exc: BaseException) -> str:
    """The driver's message without SQL or bound parameters (which may hold personal data)."""
    cause = getattr(exc, "orig", None) or exc
    first = (str(cause).strip().splitlines() or [""])[0]
    return f"{type(cause).__name__}: {first}"[:1000]


class ReadModelSet(OperatorView):
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
        # Catch-up passes, one at a time: a writer waits for a pass that started after its write
        # (or runs it itself), so concurrent writes share one pass instead of each running its
        # own behind the others' locks (group commit for read models).
        self._passing = threading.Lock()
        self._passes = threading.Condition()
        self._passes_started = self._passes_done = 0
        self._behind: list[str] = []  # what the last pass left behind
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

    def run_once(
        self, model: ReadModel, limit: int | None = None, batches: Batches | None = None
    ) -> int:
        """Applies one batch; on a poison event applies what precedes it, then halts there.

        Returns how far the position moved; `model.drained` tells whether the batch reached the
        end of the log (then another run would find nothing). `batches` shares the batches read
        from the log between the read models of one pass (they are mostly at one position).
        """
        limit = limit or batch_size(self.engine)
        model.drained = False
        deferred = True  # rows sent in runs, until a run fails (then event by event)
        with model.lock:
            while True:
                try:
                    with self.engine.begin() as conn:
                        halted, skipped = self._failures(conn, model)
                        if halted:
                            return 0
                        position = self.positions.lock(conn, model.key)
                        notifications = (batches or Batches(self.app)).after(position, limit)
                        last, handled = model.apply(
                            conn, position, limit, skipped, notifications, deferred
                        )
                        if last != position:
                            self.positions.set(model.key, last, conn)
                    with self._passes:  # a writer waiting for its own position may go now
                        model.seen_at = last
                        self._passes.notify_all()
                    model.drained = handled < limit
                    model.handled_since_start += handled
                    self.last_error.pop(model.name, None)
                    return last - position
                except WritesFailed as exc:  # which event it was shows event by event
                    log.info(
                        "read model %s: %s failed (%s); the batch again event by event",
                        model.key,
                        exc,
                        error_text(exc.__cause__ or exc),
                    )
                    deferred = False
                    continue
                except EventFailed as failed:
                    if failed.index:  # the batch rolled back: first the events before it
                        limit = failed.index
                        continue
                    self._halt(model, failed)
                    return 0

    def catch_up_one(
        self, model: ReadModel, max_batches: int | None = None, batches: Batches | None = None
    ) -> str:
        """Catches up, at most `max_batches`: AT_END when it reached the end of the log, BOUNDED
        when it stopped at the bound, SHORT when halted, stopping or on a transient error
        (retried later)."""
        done = 0
        try:
            while not self.stopping:
                moved = self.run_once(model, batches=batches)
                if model.drained:
                    return AT_END
                if not moved:
                    return SHORT  # halted
                done += 1
                if max_batches is not None and done >= max_batches:
                    return BOUNDED
        except Exception as exc:  # transient (database busy, connection lost): retried later
            self.last_error[model.name] = error_text(exc)
            log.warning("read model %s could not catch up: %s", model.key, error_text(exc))
        return SHORT

    def catch_up(self) -> None:
        """Until every read model is at the end of the log, halted or failing (never raises:
        the store unreachable is retried by the next call)."""
        try:
            while not self.stopping and self._run_pass(blocking=True) is True:
                pass
        except Exception as exc:
            log.warning("read models could not catch up: %s", error_text(exc))

    def _run_pass(self, blocking: bool) -> bool | None:
        """One pass over the read models behind the head, unless another pass runs (then None,
        when not `blocking`). True when a read model stopped short of the end only because of
        the bound (another pass goes on). Read models at the head cost one query for all.

        The read models a pass leaves behind are kept for the writers waiting on it."""
        if not self._passing.acquire(blocking=blocking):
            return None
        with self._passes:
            self._passes_started += 1
            number = self._passes_started
        behind, more = list(self.models), False
        try:
            head = self.head()
            at = self.positions_all()
            batches = Batches(self.app)
            behind = []
            moved = self._move_on_together(
                [m for m in self if at.get(m.key, 0) < head], at, batches
            )
            for model in self:
                if at.get(model.key, 0) >= head:
                    model.seen_at = at.get(model.key, 0)
                    continue
                if model.name in moved:
                    continue
                reached = self.catch_up_one(model, PASS_BATCHES, batches)
                if reached != AT_END:
                    behind.append(model.name)
                    more = more or reached == BOUNDED
        finally:
            self._passing.release()
            with self._passes:
                if number > self._passes_done:
                    self._passes_done, self._behind = number, behind
                self._passes.notify_all()
        return more

    def _move_on_together(
        self, behind: list[ReadModel], at: dict[str, int], batches: Batches
    ) -> set[str]:
        """Read models whose rest of the log holds no event they handle pass it together, in
        one transaction, instead of a transaction each: most events concern one read model,
        and the others only move on. Returns the names of those moved to the end of the log.

        A read model halted, busy in this process, or moved meanwhile by another instance
        (its locked position is no longer the one read) is left to its own catch-up."""
        limit = batch_size(self.engine)
        idle: dict[ReadModel, tuple[int, int, int]] = {}
        for model in behind:
            start = at.get(model.key, 0)
            rest = batches.after(start, limit)
            if (
                0 < len(rest) < limit
                and not any(model.wants(n.topic) for n in rest)
                and model.lock.acquire(blocking=False)  # last: held only by those taken
            ):
                idle[model] = (start, rest[-1].id, len(rest))
        if not idle:
            return set()
        moved: set[str] = set()
        try:
            with self.engine.begin() as conn:
                halted = self._halted_names(conn, [m.name for m in idle])
                locked = self.positions.lock_many(conn, [m.key for m in idle])
                writes, stamp = Writes(conn), now()
                for model, (start, last, _) in idle.items():
                    if model.name not in halted and locked.get(model.key) == start:
                        values = {"position": last, "updated_at": stamp}
                        update_row(writes, positions_table, {"name": model.key}, values)
                        moved.add(model.name)
                writes.flush()
            with self._passes:
                for model, (_, last, passed) in idle.items():
                    if model.name in moved:
                        model.seen_at, model.drained = last, True
                        model.handled_since_start += passed
                        self.last_error.pop(model.name, None)
                self._passes.notify_all()
        except Exception as exc:  # each catches up on its own instead
            log.warning("read models could not move on together: %s", error_text(exc))
            moved = set()
        finally:
            for model in idle:
                model.lock.release()
        return moved

    def reach(self, position: int, timeout: float = 5.0) -> list[str]:
        """Read-your-writes: waits until every read model has passed notification id `position`
        and returns the names of those still behind it (never raises).

        The first caller to find no pass running runs one itself (bounded, so a rebuild cannot
        hold a request); the others wait for it, or run the next one if theirs came too late
        for it. When every read model is past `position` already, it returns at once.
        """
        try:
            behind = self._wait_for_pass(timeout, position)
        except Exception as exc:
            log.warning("read models reaching %d: %s", position, error_text(exc))
            behind = list(self.models)
        holder = behind_in_request.get()
        if holder is not None:
            holder.extend(name for name in behind if name not in holder)
        return behind

    def _wait_for_pass(self, timeout: float, position: int = 0) -> list[str]:
        """The read models left behind by the first pass that started after the write (none if
        every read model reached the write's `position` before)."""

        def reached() -> bool:
            return bool(position) and all(model.seen_at >= position for model in self)

        with self._passes:
            wanted = self._passes_started + 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._passes:
                if reached():
                    return []
                if self._passes_done >= wanted:
                    return list(self._behind)
            if self._run_pass(blocking=False) is not None:
                continue  # ours ran: it started after the write
            with self._passes:  # another pass runs: it ends (or moves a model on) with a notify
                self._passes.wait_for(
                    lambda: reached() or self._passes_done >= wanted or not self._passing.locked(),
                    timeout=max(0.0, deadline - time.monotonic()),
                )
        return list(self.models)  # no pass in time: say so rather than wait longer

    # -- state -------------------------------------------------------------------------------

    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def positions_all(self) -> dict[str, int]:
        """Every read model's position, in one query: key -> position."""
        keys = [model.key for model in self]
        with self.engine.connect() as conn:
            rows = conn.execute(_POSITIONS, {"keys": keys}).all()
        found = {name: int(position) for name, position in rows}
        return {key: found.get(key, 0) for key in keys}

    @property
    def position(self) -> int:
        """The lowest position of all (for the status endpoint's single figure)."""
        return min((self.positions.get(m.key) for m in self), default=0)

    @property
    def handled_since_start(self) -> int:
        """Events gone through since start (each read model goes through every event)."""
        return max((m.handled_since_start for m in self), default=0)

    def _failures(self, conn: sa.Connection, model: ReadModel) -> tuple[bool, frozenset[int]]:
        """Whether the read model is halted, and the events waived for it: one query."""
        rows = conn.execute(_FAILURES, {"name": model.name}).all()
        halted = any(state == HALTED for state, _ in rows)
        return halted, frozenset(position for state, position in rows if state == SKIPPED)

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
