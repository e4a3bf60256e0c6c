"""The offline checker: compares the history with what each side's store holds afterwards.

`seen[direction][member]` is the ordered list of `(kind, key)` facts the receiving side recorded
for a member, in the order of its own event store (across all of the member's aggregates).
From the history alone it counts:
- lost: an operation answered 2xx whose fact never appeared at the other side;
- duplicated: a fact recorded more than once (an activity counted twice, a payout twice);
- phantom: a fact recorded although every attempt at it was refused (nothing stored that
  should not be), or a fact no client ever asked for;
- order violations: two facts of one member recorded by the receiving side in the opposite order
  to the sending side's own store (its event store's order across the member's aggregates; that
  covers writes whose answer was lost too). Where a fact is missing from the sender's store, the
  order of acknowledgement stands in (one member's writes at one place are sequential).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from tests.faults.history import FAILED, OK, UNKNOWN, History, Op

Seen = dict[str, dict[str, list[tuple[str, str]]]]


@dataclass
class Figures:
    scenario: str
    seed: int
    ops: int = 0
    ok: int = 0
    failed: int = 0
    unknown: int = 0
    server_errors: int = 0  # 5xx answers (counted as unknown outcomes; the API promises none)
    lost: int = 0
    duplicated: int = 0
    phantom: int = 0
    order_violations: int = 0
    converge_seconds: float = 0.0
    stopped_places: int = 0
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"FAULTS {self.scenario} seed={self.seed} ops={self.ops} ok={self.ok} "
            f"failed={self.failed} unknown={self.unknown} 5xx={self.server_errors} "
            f"lost={self.lost} "
            f"duplicated={self.duplicated} phantom={self.phantom} "
            f"order_violations={self.order_violations} "
            f"converge_s={self.converge_seconds:.1f} stopped={self.stopped_places}"
        )

    @property
    def clean(self) -> bool:
        return not (
            self.lost
            or self.duplicated
            or self.phantom
            or self.order_violations
            or self.stopped_places
        )


def _attempts(history: History) -> dict[tuple[str, str, str, str], list[Op]]:
    """Crossing operations grouped by the fact they aim at (retries of one fact share a key)."""
    grouped: dict[tuple[str, str, str, str], list[Op]] = defaultdict(list)
    for op in history.ops:
        if op.direction:
            grouped[(op.direction, op.member, op.kind, op.key)].append(op)
    return grouped


def missing(history: History, seen: Seen) -> list[tuple[str, str, str, str]]:
    """Acknowledged facts not (yet) visible at the other side: what convergence waits for."""
    out = []
    for (direction, member, kind, key), ops in _attempts(history).items():
        if any(op.status == OK for op in ops) and (kind, key) not in seen.get(direction, {}).get(
            member, []
        ):
            out.append((direction, member, kind, key))
    return out


def check(figures: Figures, history: History, seen: Seen, sent: Seen | None = None) -> Figures:
    figures.ops = len(history.ops)
    figures.ok, figures.failed = history.count(OK), history.count(FAILED)
    figures.unknown = history.count(UNKNOWN)
    figures.server_errors = sum(1 for op in history.ops if op.detail[:1] == "5")
    attempts = _attempts(history)
    for (direction, member, kind, key), ops in attempts.items():
        statuses = {op.status for op in ops}
        times = Counter(seen.get(direction, {}).get(member, []))[(kind, key)]
        if OK in statuses and times == 0:
            figures.lost += 1
            figures.notes.append(f"lost {direction} {kind} {key} of {member}")
        if times > 1:
            figures.duplicated += times - 1
            figures.notes.append(f"{times}x {direction} {kind} {key} of {member}")
        if times and statuses <= {FAILED}:
            figures.phantom += 1
            figures.notes.append(f"refused but stored: {direction} {kind} {key} of {member}")
    for direction, members in (sent or {}).items():
        for member, facts in members.items():
            for kind, key in set(facts):
                ops = attempts.get((direction, member, kind, key), [])
                if ops and {op.status for op in ops} <= {FAILED}:
                    figures.phantom += 1
                    figures.notes.append(f"refused but stored at the sender: {kind} {key}")
    for direction, members in seen.items():
        for member, facts in members.items():
            order = (sent or {}).get(direction, {}).get(member, [])
            figures.order_violations += _inversions(
                direction, member, facts, attempts, order, figures
            )
    return figures


def _inversions(
    direction: str,
    member: str,
    facts: list[tuple[str, str]],
    attempts: dict[tuple[str, str, str, str], list[Op]],
    sender_order: list[tuple[str, str]],
    figures: Figures,
) -> int:
    """Adjacent pairs recorded against the order the sender recorded them in."""
    position = {fact: n for n, fact in enumerate(dict.fromkeys(sender_order))}
    ranks: list[int] = []
    for kind, key in dict.fromkeys(facts):  # a duplicate is counted as such, not as disorder
        ops = attempts.get((direction, member, kind, key))
        if not ops:
            figures.phantom += 1
            figures.notes.append(f"unasked fact {direction} {kind} {key} of {member}")
            continue
        if (kind, key) in position:
            ranks.append(position[(kind, key)])
            continue
        acknowledged = [op for op in ops if op.status == OK]
        if acknowledged:  # an unknown outcome is concurrent with every later write: no order
            ranks.append(len(sender_order) + acknowledged[0].index)
    violations = 0
    for before, after in zip(ranks, ranks[1:], strict=False):
        if after < before:
            violations += 1
            figures.notes.append(f"order {direction} of {member}: {facts}, sender: {sender_order}")
    return violations
