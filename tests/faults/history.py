"""The history of a fault run: every operation a client invoked and how it ended.

Like a Jepsen history: an operation is `invoked`, then `ok` (a 2xx: the place promised the
fact), `failed` (a definite refusal: a 4xx, or a connection that never reached the place) or
`unknown` (a timeout, a dropped connection, a 5xx: the fact may or may not be stored). The
checker reads it afterwards, never during the run, so faults cannot bend what it sees.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

INVOKED, OK, FAILED, UNKNOWN = "invoked", "ok", "failed", "unknown"

# Which kinds of operation produce a fact the other side must see, and in which direction.
CROSSING = {
    "depart": "o2h",
    "employer": "o2h",
    "origin_eval": "o2h",
    "report": "h2o",
    "activity": "h2o",
    "host_eval": "h2o",
}


@dataclass
class Op:
    index: int
    side: str  # the place that was asked: "origin" or "host"
    member: str  # the member's id at the origin (the id both sides agree on)
    kind: str
    key: str  # the fact's identity as the other side records it
    status: str = INVOKED
    invoked_at: float = field(default_factory=time.monotonic)
    completed_at: float | None = None
    detail: str = ""

    @property
    def direction(self) -> str | None:
        return CROSSING.get(self.kind)


class History:
    """Thread-safe: the workload's clients record into it concurrently."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.ops: list[Op] = []

    def invoke(self, side: str, member: str, kind: str, key: str = "") -> Op:
        with self._lock:
            op = Op(len(self.ops), side, member, kind, key)
            self.ops.append(op)
            return op

    def complete(self, op: Op, status: str, detail: str = "") -> Op:
        op.status, op.detail, op.completed_at = status, detail[:300], time.monotonic()
        return op

    def count(self, status: str) -> int:
        return sum(1 for op in self.ops if op.status == status)

    def dump(self, path: Path) -> Path:
        """One JSON line per operation, for reading a failed run offline."""
        with path.open("w") as out:
            for op in self.ops:
                out.write(json.dumps(asdict(op), ensure_ascii=False) + "\n")
        return path
