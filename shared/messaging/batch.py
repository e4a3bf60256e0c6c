"""Applying many facts in one transaction, with the same outcomes as one after another.

A fact per transaction costs a commit, a position lookup and a counter update each: the
receiver's rate was bounded by round trips, not by work (docs/performance.md). Here a batch of
messages is decided in order against the member streams' positions read in one query; the
applied facts' events and every stream's new position are saved in one transaction
(`shared/batch_tracking.py`), and the counters once.

Each fact sees what the earlier facts of its batch changed, as if they had been saved: the
importer reads through the batch (`CachingRepository.batch`), and a refused fact leaves the batch
as it was. The guarantees of one fact at a time hold:
- nothing is acknowledged before the batch is committed (a crash redelivers the whole batch; the
  tracked positions make the applied part duplicates);
- a conflict with a local write, or any error, undoes the batch, which is then decided again one
  message at a time against fresh state (`InboundProcessor.process`), so one bad message holds
  back only itself;
- a refused fact whose position waits for its dead letter (`settle`) is not passed in memory: the
  member's later facts in the batch park behind it, as they would after it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import Tracking

from shared.contracts.envelope import Envelope
from shared.contracts.registry import WireEvent
from shared.messaging.tally import APPLIED, DEAD, Outcome

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """One message as the transport handed it over (see `InboundProcessor.process`)."""

    raw: bytes
    retry_of: str | None = None
    retry_class: str | None = None
    subject: str | None = None
    stream_seq: int | None = None
    # What `prepare` gave for it, when it was checked ahead (`check_all`); None: check it here.
    checked: Any = None


class _Undo(Exception):
    """The batch cannot be committed as decided: decide it again one message at a time."""


class BatchApplier:
    """The batch half of the receiver (mixed into `InboundProcessor`)."""

    app: Any
    track_rejections_after_dead_letter: bool
    undone = 0  # batches decided again one message at a time (shown on the links view)
    last_undone_reason = ""

    def process_batch(self, deliveries: list[Delivery]) -> list[Outcome | Exception]:
        """Decides and applies `deliveries` in order, in one transaction.

        Each outcome is what `process` gives for the messages one after another; a message that
        could not be decided for no fault of its own (the database is down, a bug) gets its
        exception instead, and is redelivered. Operators' retries are decided alone.
        """
        if deliveries and not any(d.retry_of for d in deliveries):
            try:
                outcomes = self._decide_batch(deliveries)
            except _Undo as undo:
                self.undone += 1
                self.last_undone_reason = f"{type(undo.__cause__).__name__}: {undo.__cause__}"
                log.info("batch decided again one at a time: %s", self.last_undone_reason)
            else:
                seqs = [d.stream_seq for d in deliveries]
                return self._count_many(zip(outcomes, seqs, strict=True))  # type: ignore[attr-defined,no-any-return]
        waiting: set[str] = set()
        return [self._one(delivery, waiting) for delivery in deliveries]

    def _one(self, delivery: Delivery, waiting: set[str]) -> Outcome | Exception:
        """One message as `process` decides it, but a member stream whose refused fact awaits its
        dead letter (`settle`) holds the rest of its batch: a copy of that fact would otherwise
        be refused again, and dead-lettered twice."""
        try:
            outcome: Outcome = self._decide(  # type: ignore[attr-defined]
                delivery.raw, delivery.retry_of, delivery.retry_class, delivery.subject
            )
        except Exception as exc:
            return exc
        pending = outcome.pending_tracking
        if pending is not None and outcome.envelope is not None:
            if pending.application_name in waiting:
                applied = self.app.position_of(pending.application_name)
                outcome = self._park(outcome.envelope, applied)  # type: ignore[attr-defined]
            waiting.add(pending.application_name)
        return self._count(outcome, delivery.stream_seq)  # type: ignore[attr-defined,no-any-return]

    def _decide_batch(self, deliveries: list[Delivery]) -> list[Outcome]:
        prepared = [
            d.checked if d.checked is not None else self.prepare(d.raw, d.subject)  # type: ignore[attr-defined]
            for d in deliveries
        ]
        names = {
            self.tracking_name(p[0])  # type: ignore[attr-defined]
            for p in prepared
            if not isinstance(p, Outcome)
        }
        saved: ProcessingEvent[Any] = ProcessingEvent()
        trackings: list[Tracking] = []
        waiting: set[str] = set()  # streams whose refused fact awaits its dead letter
        outcomes: list[Outcome] = []
        try:
            # The member streams' positions, and which records the facts meet for the first
            # time: one round trip for both.
            positions: dict[str, int]
            positions, absent = self.app.positions_and_absent(
                sorted(names), self._lookups(prepared)
            )
            with self.app.repository.batch(saved.aggregates, absent):
                for item in prepared:
                    if isinstance(item, Outcome):
                        outcomes.append(item)
                    else:
                        outcomes.append(
                            self._decide_one(*item, positions, saved, trackings, waiting)
                        )
            if trackings:
                self.app.save_tracked_many(saved, trackings)
        except Exception as exc:
            # A conflict (a local write, or another copy, came first) or one message's trouble:
            # one at a time, against fresh state, each gets its own outcome.
            raise _Undo from exc
        return outcomes

    def _lookups(self, prepared: list[Any]) -> set[Any]:
        """What the importer says it will look up first, for the whole batch: most facts in a
        large backlog are about members new here, and one query tells they are not there."""
        lookups = getattr(self.importer, "lookups", None)
        if lookups is None:
            return set()
        return {
            found
            for item in prepared
            if not isinstance(item, Outcome) and item[1] is not None
            for found in lookups(item[0], item[1])
        }

    def _decide_one(
        self,
        envelope: Envelope,
        event: WireEvent | None,
        unreadable: str,
        positions: dict[str, int],
        saved: ProcessingEvent[Any],
        trackings: list[Tracking],
        waiting: set[str],
    ) -> Outcome:
        name = self.tracking_name(envelope)  # type: ignore[attr-defined]
        applied = positions[name]
        if name in waiting:  # behind a refusal not yet settled (a copy of it too): after it
            return self._park(envelope, applied)  # type: ignore[attr-defined,no-any-return]
        out_of_turn: Outcome | None = self.out_of_turn(envelope, applied)  # type: ignore[attr-defined]
        if out_of_turn is not None:
            return out_of_turn
        tracking = Tracking(name, envelope.seq)
        refusal = unreadable
        if event is not None:
            imported = self._import(envelope, event)  # type: ignore[attr-defined]
            if isinstance(imported, str):
                refusal = imported
            else:
                _collect(saved, imported)
        if refusal and self.track_rejections_after_dead_letter:
            # Its position is recorded once its dead letter is stored (receiver.settle); until
            # then the member's later facts wait behind it.
            waiting.add(name)
            return Outcome(DEAD, refusal, envelope, pending_tracking=tracking)
        trackings.append(tracking)
        positions[name] = envelope.seq
        return Outcome(DEAD, refusal, envelope) if refusal else Outcome(APPLIED, "", envelope)


def _collect(saved: ProcessingEvent[Any], aggregates: list[Any]) -> None:
    """`ProcessingEvent.collect_events` for aggregates, without its runtime protocol checks (a
    quarter of a batch's time at the host): the importers return aggregates only."""
    for aggregate in aggregates:
        if aggregate is not None:
            saved.events.extend(aggregate.collect_events())
            saved.aggregates[aggregate.id] = aggregate
