"""The receiver: applies facts from the other place exactly once, in per-member order.

Each message is checked (envelope, signature, addressed to this place, schema), then applied by
the service's importer; its resulting events are saved together with a tracking record
`<from place>:<sender aggregate> = seq` in one transaction. So:
- a redelivered or re-published copy finds its seq already tracked and is acknowledged unapplied;
- a message whose predecessor (`prevseq`) has not been applied yet waits (negative ack with a
  delay), bounded by `park_timeout`, and is visible in the status as parked;
- what can never apply goes to the dead-letter stream with its reason, and the link flows on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import Tracking

from shared.contracts.envelope import Envelope, MalformedMessage, parse_envelope
from shared.contracts.registry import SchemaViolation, UnknownEventType, WireEvent
from shared.eventsourced import LiangdiApplication
from shared.security.signing import SignatureRejected, TrustRegistry


class InboundRejected(Exception):
    """The importer cannot apply an authentic, well-formed fact (a domain rule says no)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


Importer = Callable[[Envelope, WireEvent], list[Any]]

APPLIED, DUPLICATE, PARKED, DEAD = "applied", "duplicate", "parked", "dead_letter"


@dataclass(frozen=True)
class Outcome:
    result: str
    reason: str = ""
    envelope: Envelope | None = None


class InboundProcessor:
    """The transport-free half of the receiver: decides and applies, one message at a time."""

    def __init__(
        self,
        *,
        app: LiangdiApplication,
        importer: Importer,
        place: str,
        direction: str,
        trust: TrustRegistry | None,
        park_timeout: float = 3600.0,
    ):
        self.app, self.importer, self.place, self.direction = app, importer, place, direction
        self.trust, self.park_timeout = trust, park_timeout
        self.parked_since: dict[str, float] = {}
        self.counts = {APPLIED: 0, DUPLICATE: 0, PARKED: 0, DEAD: 0}
        self.sources: dict[str, dict[str, Any]] = {}

    def process(self, raw: bytes, retry_of: str | None = None) -> Outcome:
        try:
            envelope = parse_envelope(raw)
        except MalformedMessage as exc:
            return self._count(Outcome(DEAD, f"malformed: {exc}"))
        rejection = self._authenticate(envelope)
        if rejection:
            return self._count(Outcome(DEAD, rejection, envelope))
        try:
            event = envelope.wire_event()
        except (UnknownEventType, SchemaViolation) as exc:
            return self._count(Outcome(DEAD, f"schema: {exc}", envelope))
        if retry_of:
            return self._count(self._apply(envelope, event, Tracking(f"retry:{retry_of}", 1)))
        applied = self.app.position_of(envelope.tracking_name)
        if envelope.seq <= applied:
            return self._count(Outcome(DUPLICATE, f"seq {envelope.seq} <= {applied}", envelope))
        if envelope.prevseq != applied:
            return self._count(self._park(envelope, applied))
        self.parked_since.pop(envelope.id, None)
        return self._count(
            self._apply(envelope, event, Tracking(envelope.tracking_name, envelope.seq))
        )

    def _authenticate(self, envelope: Envelope) -> str:
        if envelope.to_place != self.place or envelope.direction != self.direction:
            return (
                f"misaddressed: {envelope.direction} to {envelope.to_place}, "
                f"this receiver is {self.direction} to {self.place}"
            )
        if self.trust is not None:
            try:
                self.trust.verify(envelope)
            except SignatureRejected as exc:
                return f"signature: {exc}"
        return ""

    def _apply(self, envelope: Envelope, event: WireEvent, tracking: Tracking) -> Outcome:
        try:
            aggregates = self.importer(envelope, event)
        except InboundRejected as exc:
            # The fact is authentic and in order: record its position so the member's later facts
            # are not held up, and keep the fact itself in the dead letters for an operator.
            self.app.save_tracked(tracking)
            return Outcome(DEAD, f"rejected: {exc.code}: {exc.message}", envelope)
        self.app.save_tracked(tracking, *aggregates)
        return Outcome(APPLIED, "", envelope)

    def _park(self, envelope: Envelope, applied: int) -> Outcome:
        since = self.parked_since.setdefault(envelope.id, time.monotonic())
        if time.monotonic() - since > self.park_timeout:
            self.parked_since.pop(envelope.id, None)
            return Outcome(
                DEAD,
                f"out of order: waited {self.park_timeout:.0f}s for seq {envelope.prevseq} "
                f"of {envelope.tracking_name} (applied up to {applied})",
                envelope,
            )
        return Outcome(
            PARKED, f"waiting for seq {envelope.prevseq}, applied up to {applied}", envelope
        )

    def _count(self, outcome: Outcome) -> Outcome:
        self.counts[outcome.result] += 1
        if outcome.envelope is not None:
            source = self.sources.setdefault(
                outcome.envelope.from_place,
                {APPLIED: 0, DUPLICATE: 0, PARKED: 0, DEAD: 0, "last_applied_at": None},
            )
            source[outcome.result] += 1
            if outcome.result == APPLIED:
                source["last_applied_at"] = time.time()
                source["last_event_time"] = outcome.envelope.time.timestamp()
        return outcome

    def status(self) -> dict[str, Any]:
        return {
            "counts": dict(self.counts),
            "parked_now": len(self.parked_since),
            "oldest_parked_seconds": (
                time.monotonic() - min(self.parked_since.values()) if self.parked_since else 0.0
            ),
            "sources": self.sources,
        }
