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

from eventsourcing.persistence import IntegrityError, RecordConflictError, Tracking

from shared.contracts.envelope import Envelope, MalformedMessage, parse_envelope
from shared.contracts.registry import SchemaViolation, UnknownEventType, WireEvent
from shared.eventsourced import LiangdiApplication
from shared.messaging.topology import event_subject
from shared.security.signing import SignatureRejected, TrustRegistry

CONFLICT_RETRIES = 5


def _wrong_subject(envelope: Envelope, subject: str | None) -> str:
    routed = event_subject(
        envelope.direction, envelope.from_place, envelope.to_place, envelope.subject
    )
    if subject is None or subject == routed:
        return ""
    return f"misaddressed: arrived on {subject}, the envelope routes to {routed}"


class ConcurrentUpdates(RuntimeError):
    """Applying kept conflicting with local writes; the message is redelivered later."""


class InboundRejected(Exception):
    """The importer cannot apply an authentic, well-formed fact (a domain rule says no)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


Importer = Callable[[Envelope, WireEvent], list[Any]]

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
        self.dead_by_reason: dict[str, int] = {}

    def process(
        self,
        raw: bytes,
        retry_of: str | None = None,
        retry_class: str | None = None,
        subject: str | None = None,
    ) -> Outcome:
        """Decides and applies one message.

        `retry_of` names the dead letter an operator retries; `retry_class` its reason class.
        Only a fact the domain refused ("rejected") was tracked without being applied, so only
        such a retry applies behind the member's position (once, under `retry:<id>`); any other
        retry applies in order like a first delivery, or is a duplicate.
        `subject` is the NATS subject it arrived on: it must be the one the envelope routes to, so
        a genuine message replayed onto another place's subject is refused.
        """
        try:
            envelope = parse_envelope(raw)
        except MalformedMessage as exc:
            return self._count(Outcome(DEAD, f"malformed: {exc}"))
        rejection = self._authenticate(envelope) or _wrong_subject(envelope, subject)
        if rejection:
            return self._count(Outcome(DEAD, rejection, envelope))
        try:
            event = envelope.wire_event()
        except (UnknownEventType, SchemaViolation) as exc:
            return self._count(Outcome(DEAD, f"schema: {exc}", envelope))
        tracking_name = self.tracking_name(envelope)
        applied = self.app.position_of(tracking_name)
        if retry_of and envelope.seq <= applied and retry_class in (None, "rejected"):
            # An operator's retry of a fact already past this member's position (one the domain
            # refused, tracked): applied at most once under its own tracking record.
            return self._count(self._apply(envelope, event, Tracking(f"retry:{retry_of}", 1)))
        if envelope.seq <= applied:
            self.parked_since.pop(envelope.id, None)
            return self._count(Outcome(DUPLICATE, f"seq {envelope.seq} <= {applied}", envelope))
        if envelope.prevseq != applied:
            return self._count(self._park(envelope, applied))
        # In order (a retry too): applied with the member's position, so later facts flow on.
        self.parked_since.pop(envelope.id, None)
        return self._count(self._apply(envelope, event, Tracking(tracking_name, envelope.seq)))

    def tracking_name(self, envelope: Envelope) -> str:
        """The position key a message is ordered and de-duplicated by."""
        return envelope.tracking_name

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
        for attempt in range(CONFLICT_RETRIES):
            try:
                try:
                    aggregates = self.importer(envelope, event)
                except InboundRejected as exc:
                    # The fact is authentic and in order: record its position so the member's
                    # later facts are not held up, and keep the fact itself in the dead letters.
                    self.app.save_tracked(tracking)
                    return Outcome(DEAD, f"rejected: {exc.code}: {exc.message}", envelope)
                self.app.save_tracked(tracking, *aggregates)
                return Outcome(APPLIED, "", envelope)
            except (RecordConflictError, IntegrityError):
                # Either another copy recorded this position first (a duplicate), or a local
                # write changed the same aggregate meanwhile: then apply again to fresh state.
                # Never take a conflict for a duplicate without looking: that would drop a fact.
                if self.app.position_of(tracking.application_name) >= tracking.notification_id:
                    return Outcome(
                        DUPLICATE, f"{tracking.application_name} already recorded", envelope
                    )
                time.sleep(0.01 * (attempt + 1))
        raise ConcurrentUpdates(
            f"{tracking.application_name} seq {tracking.notification_id}: the aggregate kept "
            f"changing; held back for redelivery"
        )

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
        if outcome.result == DEAD:
            cls = reason_class(outcome.reason)
            self.dead_by_reason[cls] = self.dead_by_reason.get(cls, 0) + 1
            if outcome.envelope is not None:
                self.parked_since.pop(outcome.envelope.id, None)
        if outcome.envelope is not None:
            source = self.sources.setdefault(
                outcome.envelope.from_place,
                {APPLIED: 0, DUPLICATE: 0, PARKED: 0, DEAD: 0, "last_applied_at": None},
            )
            if outcome.result == PARKED:
                source["parked_now"] = sum(
                    1 for key in self.parked_since if key.startswith(outcome.envelope.from_place)
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
            "dead_by_reason": dict(self.dead_by_reason),
        }

    def note_position(self, outcome: Outcome, stream_seq: int) -> None:
        """The JetStream sequence of the last message settled from a source (links view)."""
        if outcome.envelope is not None and outcome.result != PARKED:
            source = self.sources.get(outcome.envelope.from_place)
            if source is not None:
                source["last_stream_seq"] = max(source.get("last_stream_seq", 0), stream_seq)
                source["parked_now"] = sum(
                    1 for key in self.parked_since if key.startswith(outcome.envelope.from_place)
                )
