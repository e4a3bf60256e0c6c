"""Keeping the embedded stack up: a child that dies is started again, after a backoff.

A crash loop (a service that fails at start, a port taken by someone else) must not spin the
machine's two cores, so each consecutive failure doubles the wait up to a cap; a child that ran
for a while before it died starts the count afresh. `liangdi restart` asks through a request file
under var/restart/ rather than by killing the process itself: the supervisor is the parent, and
only it can restart without a backoff and record why.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

REQUESTS = "restart"


@dataclass
class Backoff:
    """Capped exponential delay before the next start of one child."""

    first: float = 1.0
    cap: float = 30.0
    stable_after: float = 60.0  # a child up this long had not been crash-looping
    failures: int = 0

    def delay(self, ran_for: float) -> float:
        if ran_for >= self.stable_after:
            self.failures = 0
        self.failures += 1
        return min(self.cap, self.first * 2 ** (self.failures - 1))


@dataclass
class Watched:
    """What the supervisor knows of one child besides its process."""

    started_at: float = field(default_factory=time.monotonic)
    backoff: Backoff = field(default_factory=Backoff)
    due: float | None = None  # when a dead child is started again
    requested: bool = False  # an operator asked: no backoff

    def died(self, now: float) -> float:
        """Schedules the next start and returns the wait."""
        wait = 0.0 if self.requested else self.backoff.delay(now - self.started_at)
        self.due = now + wait
        return wait

    def restarted(self, now: float) -> None:
        self.started_at, self.due, self.requested = now, None, False


def request_path(var_dir: Path, name: str) -> Path:
    return var_dir / REQUESTS / name


def request_restart(var_dir: Path, name: str) -> None:
    """Asks the running supervisor to restart `name` now (`liangdi restart`)."""
    path = request_path(var_dir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(str(time.time()))


def take_requests(var_dir: Path) -> list[str]:
    """The names operators asked to restart since the last look; each request is used once."""
    folder = var_dir / REQUESTS
    if not folder.is_dir():
        return []
    names = []
    for path in sorted(folder.iterdir()):
        path.unlink(missing_ok=True)
        names.append(path.name)
    return names
