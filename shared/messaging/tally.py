"""What a receiver tells operators: outcomes per source, parked messages, dead letters by reason.

With a store (`linkstore.py`) the per-source counters are cumulative across restarts and leader
changes, so operators can read a gap off the links view (published vs applied vs dead-lettered).
A process that dies between applying a fact and storing its count counts the redelivered copy as
a duplicate instead: `applied + duplicate` never loses a fact.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import Tracking

from shared.contracts.envelope import Envelope
from shared.messaging.linkstore import MAXIMA, LinkStore
from shared.positions import PositionStore

log = logging.getLogger(__name__)

APPLIED, DUPLICATE, PARKED, DEAD = "applied", "duplicate", "parked", "dead_letter"
REASON_CLASSES = ("malformed", "signature", "misaddressed", "schema", "rejected", "out_of_order")


def reason_class(reason: str) -> str:
    """The class of a dead letter's reason (a metric label: never personal data)."""
    head = reason.partition(":")[0].strip().replace(" ", "_")
    return head if head in REASON_CLASSES else "other"


@dataclass(frozen=True)
class Outcome:
    result: str
    reason: str = ""
    envelope: Envelope | None = None
    # A refused fact's position, recorded by `settle` once its dead letter is stored (see there).
    pending_tracking: Tracking | None = None


class ReceiverTally:
    """Counters and parked messages of one receiver (the base of `InboundProcessor`)."""

    def __init__(self, name: str, positions: PositionStore | None):
        self.counter_name = name
        self.parked_since: dict[str, float] = {}
        self.parked_from: dict[str, str] = {}  # envelope id -> source place, for parked_now
        self.links = LinkStore(positions.engine) if positions is not None else None
        self.dead_by_reason: dict[str, int] = {}
        self.reload()

    def reload(self) -> None:
        """At start and on becoming the leader: the cumulative counters from the store."""
        self.counts = {APPLIED: 0, DUPLICATE: 0, PARKED: 0, DEAD: 0}
        self.sources: dict[str, dict[str, Any]] = {}
        if self.links is None:
            return
        for peer, stored in self.links.load_counts(self.counter_name).items():
            source = self._source(peer)
            for key in (APPLIED, DUPLICATE, PARKED, DEAD):
                source[key] = stored.get(key, 0)
                self.counts[key] += source[key]
            if "last_stream_seq" in stored:
                source["last_stream_seq"] = stored["last_stream_seq"]
            if "last_applied_at_ms" in stored:
                source["last_applied_at"] = stored["last_applied_at_ms"] / 1000
            if "last_event_time_ms" in stored:
                source["last_event_time"] = stored["last_event_time_ms"] / 1000

    def _source(self, from_place: str) -> dict[str, Any]:
        return self.sources.setdefault(
            from_place,
            {
                APPLIED: 0,
                DUPLICATE: 0,
                PARKED: 0,
                DEAD: 0,
                "parked_now": 0,
                "last_applied_at": None,
            },
        )

    def _parked_now(self, from_place: str) -> int:
        return sum(1 for source in self.parked_from.values() if source == from_place)

    def _count(self, outcome: Outcome, stream_seq: int | None = None) -> Outcome:
        self._store_counts(self._tally(outcome, stream_seq))
        return outcome

    def _count_many(self, settled: Iterable[tuple[Outcome, int | None]]) -> list[Outcome]:
        """Counts a batch's outcomes, stored in one transaction."""
        outcomes: list[Outcome] = []
        deltas: dict[str, dict[str, int]] = {}
        for outcome, stream_seq in settled:
            outcomes.append(outcome)
            for peer, values in self._tally(outcome, stream_seq).items():
                merged = deltas.setdefault(peer, {})
                for key, value in values.items():
                    if key in MAXIMA:
                        merged[key] = max(merged.get(key, 0), value)
                    else:
                        merged[key] = merged.get(key, 0) + value
        self._store_counts(deltas)
        return outcomes

    def _store_counts(self, deltas: dict[str, dict[str, int]]) -> None:
        # A parked message comes back every park delay: only settled outcomes are stored.
        if self.links is not None and deltas:
            try:
                self.links.add_counts(self.counter_name, deltas)
            except Exception as exc:  # counters never hold a fact back
                log.warning("receiver counters not stored: %s", exc)

    def _tally(self, outcome: Outcome, stream_seq: int | None) -> dict[str, dict[str, int]]:
        """Counts an outcome in memory; what to add to the store, by source."""
        self.counts[outcome.result] += 1
        if outcome.result == DEAD:
            cls = reason_class(outcome.reason)
            self.dead_by_reason[cls] = self.dead_by_reason.get(cls, 0) + 1
        envelope = outcome.envelope
        if envelope is None:
            return {}
        if outcome.result != PARKED:
            self.parked_since.pop(envelope.id, None)
            self.parked_from.pop(envelope.id, None)
        source = self._source(envelope.from_place)
        source[outcome.result] += 1
        source["parked_now"] = self._parked_now(envelope.from_place)
        stored = {outcome.result: 1}
        if outcome.result == APPLIED:
            source["last_applied_at"] = time.time()
            source["last_event_time"] = envelope.time.timestamp()
            stored["last_applied_at_ms"] = int(source["last_applied_at"] * 1000)
            stored["last_event_time_ms"] = int(source["last_event_time"] * 1000)
        if stream_seq is not None and outcome.result != PARKED:
            source["last_stream_seq"] = max(source.get("last_stream_seq", 0), stream_seq)
            stored["last_stream_seq"] = stream_seq
        return {} if outcome.result == PARKED else {envelope.from_place: stored}

    def status(self) -> dict[str, Any]:
        for from_place, source in self.sources.items():
            source["parked_now"] = self._parked_now(from_place)
        return {
            "counts": dict(self.counts),
            "parked_now": len(self.parked_since),
            "oldest_parked_seconds": (
                time.monotonic() - min(self.parked_since.values()) if self.parked_since else 0.0
            ),
            "sources": self.sources,
            "dead_by_reason": dict(self.dead_by_reason),
        }

    def note_position(self, outcome: Outcome, stream_seq: int) -> None:
        """The JetStream sequence of the last message settled from a source (links view)."""
        if outcome.envelope is not None and outcome.result != PARKED:
            source = self.sources.get(outcome.envelope.from_place)
            if source is not None:
                source["last_stream_seq"] = max(source.get("last_stream_seq", 0), stream_seq)
                source["parked_now"] = self._parked_now(outcome.envelope.from_place)
