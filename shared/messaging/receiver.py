"""The receiver: applies facts from the other place exactly once, in per-member order.

Each message is checked (envelope, signature, addressed to this place, schema), then applied by
the service's importer; its resulting events are saved together with a tracking record
`<from place>:<member> = seq` (the sender's notification id) in one transaction. The member is
the stream, across all of the sender's aggregates about that member, so a fact never overtakes
an earlier one about the same member (an evaluation never arrives before the departure). So:
- a redelivered or re-published copy finds its seq already tracked and is acknowledged unapplied;
- a message whose predecessor (`prevseq`) has not been applied yet waits (negative ack with a
  delay), bounded by `park_timeout`, and is visible in the status as parked;
- what can never apply goes to the dead-letter stream with its reason, and the link flows on.
Counters per source are cumulative across restarts when a store is given (`linkstore.py`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import IntegrityError, RecordConflictError, Tracking

from shared.contracts.envelope import Envelope
from shared.contracts.registry import WireEvent
from shared.eventsourced import LiangdiApplication
from shared.messaging.batch import BatchApplier, Delivery
from shared.messaging.checking import FactChecks
from shared.messaging.tally import (
    APPLIED,
    DEAD,
    DUPLICATE,
    PARKED,
    REASON_CLASSES,
    Outcome,
    ReceiverTally,
    reason_class,
)
from shared.positions import PositionStore
from shared.security.signing import TrustRegistry

if TYPE_CHECKING:
    from shared.messaging.checks_apart import ChecksApart

CONFLICT_RETRIES = 5
# Dead letters whose fact was tracked when refused: a retry applies behind the member's position.
TRACKED_REFUSALS = (None, "rejected", "schema")


class ConcurrentUpdates(RuntimeError):
    """Applying kept conflicting with local writes; the message is redelivered later."""


class InboundRejected(Exception):
    """The importer cannot apply an authentic, well-formed fact (a domain rule says no)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


Importer = Callable[[Envelope, WireEvent], list[Any]]
__all__ = [  # the outcome names live in tally.py; importers of this module keep finding them
    "APPLIED",
    "DEAD",
    "DUPLICATE",
    "PARKED",
    "REASON_CLASSES",
    "ConcurrentUpdates",
    "Delivery",
    "Importer",
    "InboundProcessor",
    "InboundRejected",
    "Outcome",
    "reason_class",
]


class InboundProcessor(BatchApplier, ReceiverTally, FactChecks):
    """The transport-free half of the receiver: decides and applies, a message or a batch."""

    # Set by the runtime: a backlog's checks in a process of their own (`checks_apart.py`).
    checks_apart: ChecksApart | None = None

    def __init__(
        self,
        *,
        app: LiangdiApplication,
        importer: Importer,
        place: str,
        direction: str,
        trust: TrustRegistry | None,
        park_timeout: float = 3600.0,
        positions: PositionStore | None = None,
    ):
        self.app, self.importer, self.place, self.direction = app, importer, place, direction
        self.trust, self.park_timeout = trust, park_timeout
        # Set by the agent: a refused fact is tracked only after its dead letter is stored, so a
        # crash in between redelivers it instead of dropping it as a duplicate.
        self.track_rejections_after_dead_letter = False
        super().__init__(f"receiver:{direction}:{place}", positions)

    def process(
        self,
        raw: bytes,
        retry_of: str | None = None,
        retry_class: str | None = None,
        subject: str | None = None,
        stream_seq: int | None = None,
    ) -> Outcome:
        """Decides and applies one message.

        `retry_of` names the dead letter an operator retries; `retry_class` its reason class.
        Only an authentic fact refused in order (by the domain, "rejected", or by the contract,
        "schema") was tracked without being applied, so only such a retry applies behind the
        member's position (once, under `retry:<id>`); any other retry applies in order like a
        first delivery, or is a duplicate.
        `subject` is the NATS subject it arrived on: it must be the one the envelope routes to, so
        a genuine message replayed onto another place's subject is refused.
        `stream_seq` is its JetStream sequence (kept per source for the links view).
        """
        return self._count(self._decide(raw, retry_of, retry_class, subject), stream_seq)

    def _decide(
        self, raw: bytes, retry_of: str | None, retry_class: str | None, subject: str | None
    ) -> Outcome:
        prepared = self.prepare(raw, subject)
        if isinstance(prepared, Outcome):
            return prepared
        envelope, event, unreadable = prepared
        tracking_name = self.tracking_name(envelope)
        applied = self.app.position_of(tracking_name)
        if retry_of and envelope.seq <= applied and retry_class in TRACKED_REFUSALS:
            # An operator's retry of a fact already past this member's position (one refused
            # and tracked): applied at most once under its own tracking record.
            if event is None:
                return Outcome(DEAD, unreadable, envelope)
            return self._apply(envelope, event, Tracking(f"retry:{retry_of}", 1))
        out_of_turn = self.out_of_turn(envelope, applied)
        if out_of_turn is not None:
            return out_of_turn
        tracking = Tracking(tracking_name, envelope.seq)
        if event is None:
            # Authentic and in order, but out of this receiver's contract (a value out of
            # bounds, an unknown type): like a domain refusal it is kept in the dead letters and
            # its position recorded, so the member's later facts are not held up behind it.
            return self._refuse(unreadable, envelope, tracking)
        # In order (a retry too): applied with the member's position, so later facts flow on.
        return self._apply(envelope, event, tracking)

    def out_of_turn(self, envelope: Envelope, applied: int) -> Outcome | None:
        """A duplicate, or parked behind its predecessor; None when it is the member's next fact.

        (prevseq 0 over a tracked position: the sender started the member's chain afresh, as a
        store upgraded from per-aggregate chains does once; its seq is above what is tracked.)
        """
        if envelope.seq <= applied:
            return Outcome(DUPLICATE, f"seq {envelope.seq} <= {applied}", envelope)
        if envelope.prevseq != applied and not (envelope.prevseq == 0 and applied):
            return self._park(envelope, applied)
        return None

    def tracking_name(self, envelope: Envelope) -> str:
        """The position key a message is ordered and de-duplicated by."""
        return envelope.tracking_name

    def _apply(self, envelope: Envelope, event: WireEvent, tracking: Tracking) -> Outcome:
        for attempt in range(CONFLICT_RETRIES):
            try:
                aggregates = self._import(envelope, event)
                if isinstance(aggregates, str):
                    # The fact is authentic and in order: record its position so the member's
                    # later facts are not held up, and keep the fact itself in the dead letters.
                    return self._refuse(aggregates, envelope, tracking)
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

    def _import(self, envelope: Envelope, event: WireEvent) -> list[Any] | str:
        """The importer's aggregates for the fact, or the reason the domain refuses it."""
        try:
            return self.importer(envelope, event)
        except InboundRejected as exc:
            return f"rejected: {exc.code}: {exc.message}"

    def _refuse(self, reason: str, envelope: Envelope, tracking: Tracking) -> Outcome:
        if self.track_rejections_after_dead_letter:
            return Outcome(DEAD, reason, envelope, pending_tracking=tracking)
        self.app.save_tracked(tracking)
        return Outcome(DEAD, reason, envelope)

    def settle(self, outcome: Outcome) -> None:
        """Records a refused fact's position once its dead letter is stored.

        Tracking it first would let a crash before the dead letter is stored turn the redelivered
        fact into a "duplicate": silently gone. This way a crash redelivers it, the importer
        refuses it again, and the dead letter's own message id keeps it stored once.
        """
        if outcome.pending_tracking is None:
            return
        try:
            self.app.save_tracked(outcome.pending_tracking)
        except (RecordConflictError, IntegrityError):
            pending = outcome.pending_tracking
            if self.app.position_of(pending.application_name) < pending.notification_id:
                raise

    def _park(self, envelope: Envelope, applied: int) -> Outcome:
        since = self.parked_since.setdefault(envelope.id, time.monotonic())
        self.parked_from[envelope.id] = envelope.from_place
        if time.monotonic() - since > self.park_timeout:
            return Outcome(
                DEAD,
                f"out of order: waited {self.park_timeout:.0f}s for seq {envelope.prevseq} "
                f"of {envelope.tracking_name} (applied up to {applied})",
                envelope,
            )
        return Outcome(
            PARKED, f"waiting for seq {envelope.prevseq}, applied up to {applied}", envelope
        )
