"""A backlog's checks in a process of its own, beside the receiver's.

A host catching up runs its receiver, its read models and its event loop in one interpreter, and
that interpreter, not the machine, was the limit: one core busy, most of the other idle
(docs/performance.md, "Twelfth pass"). The checks of a fact (`checking.py`: envelope, signature,
sealed fields, contract) need nothing of the store, so a second interpreter can do them: the
receiver hands a batch's raw messages over and gets back what `prepare` gives for each, while it
applies the batch before.

Only batches of `MIN_BATCH` messages or more go there: a round trip between processes costs more
than it saves on a few facts, and live traffic arrives a few at a time (checked on the receiver's
checking thread, as before). The process starts with the first such batch and lives as long as
the receiver; until it is up, and whenever it fails, batches are checked on the thread. It builds
its trust and sealing keys from the same settings (the topology file re-read when it changes, as
in the service), so what it accepts is what the service would.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from shared.contracts.registry import schema_modules
from shared.messaging.checking import FactChecks

log = logging.getLogger(__name__)

MIN_BATCH = 64  # measured: a message's check 130-150 µs, its round trip between processes ~15 µs
RETRY_AFTER = 60.0  # seconds before a process that failed is started again
# A batch's checks take tens of milliseconds there; a process that has not answered in this long
# is stuck (stopped, swapped out) and must not hold the receiver: it is killed and replaced.
BOUND = 30.0
_checks: FactChecks | None = None  # in the checking process: its checks


def _start(settings: Any, direction: str, contract: list[str], parent: int) -> None:
    """In the checking process: the place's checks from its settings, its contract from the
    modules that registered the service's schemas; gone with its parent."""
    global _checks
    from shared.logging import configure_logging
    from shared.security.live_trust import sealer_for, trust_registry

    configure_logging("checks", settings.place)
    for module in contract:
        importlib.import_module(module)
    _checks = FactChecks.alone(
        settings.place, direction, trust_registry(settings), sealer_for(settings)
    )
    # A service killed outright (SIGKILL, the out-of-memory killer) cannot stop its pool.
    threading.Thread(target=_follow_parent, args=(parent,), daemon=True).start()


def _follow_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _started() -> int:
    return os.getpid()


def _check_all(messages: list[tuple[bytes, str | None]]) -> list[Any]:
    assert _checks is not None, "the checking process was not started with its settings"
    return _checks.check_all(messages)


class ChecksApart:
    """The receiver's side of the checking process."""

    def __init__(self, settings: Any, direction: str):
        self._settings, self._direction = settings, direction
        self._pool: ProcessPoolExecutor | None = None
        self._started: Future[int] | None = None
        self._failed_at = -RETRY_AFTER
        self.pid: int | None = None  # the checking process, once it is up
        self.bound = BOUND
        self.batches = 0  # checked there
        self.failures = 0
        self.last_failure = ""

    def takes(self, messages: list[Any]) -> bool:
        """Whether this batch goes to the checking process: a large one, with the process up.
        The first large batch starts it (in the background; that batch is checked here)."""
        if len(messages) < MIN_BATCH:
            return False
        if self._pool is None:
            if time.monotonic() - self._failed_at < RETRY_AFTER:
                return False
            self._open()
            return False
        started = self._started
        if started is None or not started.done():
            return False
        if started.exception() is not None:
            self._fail(started.exception())
            return False
        self.pid = started.result()
        return True

    async def check_all(self, messages: list[tuple[bytes, str | None]]) -> list[Any] | None:
        """What `prepare` gives for each message, from the checking process; None if that
        process failed (the batch is then checked as it is applied)."""
        assert self._pool is not None
        checking = asyncio.get_running_loop().run_in_executor(self._pool, _check_all, messages)
        try:
            checks = await asyncio.wait_for(checking, self.bound)
        except BrokenProcessPool as exc:
            self._fail(exc)
            return None
        except TimeoutError:
            self._fail(TimeoutError(f"no answer in {self.bound:g}s"), stuck=self.pid)
            return None
        self.batches += 1
        return checks

    def status(self) -> dict[str, Any]:
        """What the place's status shows of it (the links view, /metrics)."""
        return {
            "running": self.pid is not None,
            "batches": self.batches,
            "failures": self.failures,
            "last_failure": self.last_failure or None,
        }

    def close(self) -> None:
        pool, self._pool, self._started, self.pid = self._pool, None, None, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def _open(self) -> None:
        # spawn, not fork: the service has threads (a fork would copy their locks mid-use).
        self._pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start,
            initargs=(self._settings, self._direction, schema_modules(), os.getpid()),
        )
        self._started = self._pool.submit(_started)

    def _fail(self, exc: BaseException | None, stuck: int | None = None) -> None:
        if stuck is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(stuck, signal.SIGKILL)
        self.failures += 1
        self.last_failure = f"{type(exc).__name__}: {exc}"
        self._failed_at = time.monotonic()
        log.warning("checking process failed (%s); checks on the receiver's thread", exc)
        self.close()
