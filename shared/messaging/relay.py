"""The outbox relay: publishes a service's notification log to JetStream, in order.

The event store is the outbox. Each stored event may become messages to other places (the
service's exporter decides); the relay publishes them asynchronously with a bound, waits for every
acknowledgement (each with a timeout), and only then records how far it got. After a crash it
re-publishes from the recorded position: JetStream drops the copies inside its duplicate window
(same `Nats-Msg-Id`), the receiver's tracking drops any others.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nats.js import JetStreamContext

from shared.contracts.envelope import Envelope, new_envelope
from shared.contracts.registry import WireEvent
from shared.eventsourced import LiangdiApplication
from shared.messaging.topology import event_subject
from shared.positions import PositionStore
from shared.security.signing import Signer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outbound:
    """One fact for one other place. An exporter yields at most one per destination per event."""

    to_place: str
    direction: str
    event: WireEvent
    member_id: str


Exporter = Callable[[Any], list[Outbound]]


class Relay:
    def __init__(
        self,
        *,
        app: LiangdiApplication,
        exporter: Exporter,
        positions: PositionStore,
        place: str,
        service: str,
        signer: Signer | None,
        batch: int = 500,
        ack_timeout: float = 10.0,
    ):
        self.app, self.exporter, self.positions = app, exporter, positions
        self.place, self.service, self.signer = place, service, signer
        self.batch, self.ack_timeout = batch, ack_timeout
        self.name = f"relay:{service}:{place}"
        self._last_sent: dict[tuple[str, str], int] = {}
        self.published = 0
        self.position = positions.get(self.name)
        self.head = 0
        self.last_error: str | None = None
        self.last_error_at: float | None = None
        self.errors = 0
        self.healthy = True
        self.per_destination: dict[str, int] = {}
        # Per destination: JetStream sequence and event time of the last acknowledged message.
        self.last_stream_seq: dict[str, int] = {}
        self.last_event_time: dict[str, float] = {}

    def reload(self) -> None:
        """On becoming the leader: continue from the recorded position, not from memory."""
        self.position = self.positions.get(self.name)
        self._last_sent.clear()

    def envelopes(self, start: int) -> tuple[list[Envelope], int | None]:
        """The messages for notifications after `start`, and the last notification id read."""
        notifications = self.app.recorder.select_notifications(
            start=start, limit=self.batch, inclusive_of_start=False
        )
        out: list[Envelope] = []
        for notification in notifications:
            event = self.app.mapper.to_domain_event(notification)
            for index, outbound in enumerate(self.exporter(event)):
                out.append(self._envelope(notification.id, index, event, outbound))
        self.head = self.app.recorder.max_notification_id() or 0
        return out, notifications[-1].id if notifications else None

    def _envelope(self, notification_id: int, index: int, event: Any, out: Outbound) -> Envelope:
        stream = str(event.originator_id)
        seq = int(event.originator_version)
        envelope = new_envelope(
            event_id=f"{self.place}.{self.service}.{notification_id}.{index}",
            service=self.service,
            event=out.event,
            member_id=out.member_id,
            from_place=self.place,
            to_place=out.to_place,
            direction=out.direction,
            stream=stream,
            seq=seq,
            prevseq=self._previous(event, out.to_place),
            time=event.timestamp,
        )
        self._last_sent[(stream, out.to_place)] = seq
        return self.signer.sign(envelope) if self.signer else envelope

    def _previous(self, event: Any, to_place: str) -> int:
        """Version of the last fact of this aggregate sent to `to_place` before this one.

        Deterministic from the aggregate's history, so a re-publish after a crash carries the
        same value; the cache only saves reading that history again.
        """
        key = (str(event.originator_id), to_place)
        cached = self._last_sent.get(key)
        if cached is not None and cached < event.originator_version:
            return cached
        earlier = self.app.events.get(
            event.originator_id, lte=event.originator_version - 1, desc=True
        )
        for candidate in earlier:
            if any(o.to_place == to_place for o in self.exporter(candidate)):
                return int(candidate.originator_version)
        return 0

    async def run_once(self, js: JetStreamContext) -> int:
        envelopes, last_id = await asyncio.to_thread(self.envelopes, self.position)
        if last_id is None:
            return 0
        futures = []
        try:
            for envelope in envelopes:
                subject = event_subject(
                    envelope.direction, envelope.from_place, envelope.to_place, envelope.subject
                )
                futures.append(
                    await js.publish_async(
                        subject,
                        envelope.to_bytes(),
                        wait_stall=self.ack_timeout,
                        headers={"Nats-Msg-Id": envelope.id},
                    )
                )
            # An error reply can leave a future unresolved: never wait on one without a bound.
            acks = await asyncio.wait_for(asyncio.gather(*futures), timeout=self.ack_timeout)
        finally:
            # Cancelling releases each future's slot in the client's pending-publish bound; an
            # abandoned future would hold it for good and stall the relay after a few outages.
            for future in futures:
                if not future.done():
                    future.cancel()
        await asyncio.to_thread(self.positions.set, self.name, last_id)
        self.position = last_id
        self.published += len(envelopes)
        for envelope, ack in zip(envelopes, acks, strict=True):
            self.per_destination[envelope.to_place] = (
                self.per_destination.get(envelope.to_place, 0) + 1
            )
            self.last_stream_seq[envelope.to_place] = ack.seq
            self.last_event_time[envelope.to_place] = envelope.time.timestamp()
        self.healthy = True
        return len(envelopes) or 1

    def record_error(self, exc: BaseException) -> None:
        self.last_error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        self.last_error_at = time.time()
        self.errors += 1
        self.healthy = False

    def status(self) -> dict[str, Any]:
        return {
            "kind": "relay",
            "service": self.service,
            "place": self.place,
            "position": self.position,
            "head": self.head,
            "backlog": max(self.head - self.position, 0),
            "published": self.published,
            "per_destination": self.per_destination,
            "last_stream_seq": self.last_stream_seq,
            "last_event_time": self.last_event_time,
            "healthy": self.healthy,
            "errors": self.errors,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at,
            "at": time.time(),
        }
