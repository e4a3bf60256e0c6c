"""The outbox relay: publishes a service's notification log to JetStream, in order.

The event store is the outbox. Each stored event may become messages to other places (the
service's exporter decides); the relay publishes them asynchronously with a bound, waits for every
acknowledgement (each with a timeout), and only then records how far it got. After a crash it
re-publishes from the recorded position: JetStream drops the copies inside its duplicate window
(same `Nats-Msg-Id`), the receiver's tracking drops any others.

Order is per member across all of the member's aggregates (docs/architecture.md, "Exactly once,
in order"): a message's stream is the member, its seq the event's notification id, its prevseq
the notification id of the previous fact about that member sent to the same place. The relay
keeps those last seqs per (destination, member) in its store (`linkstore.py`), written in the
same transaction as its position, so a re-publish carries exactly the same prevseq.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eventsourcing.utils import get_topic
from nats.js import JetStreamContext
from pydantic import ValidationError

from shared.contracts.envelope import Envelope, new_envelope
from shared.contracts.registry import WireEvent
from shared.eventsourced import LiangdiApplication
from shared.lanes import Lane
from shared.messaging.linkstore import Counters, LinkStore, Route
from shared.messaging.topology import event_subject
from shared.positions import PositionStore
from shared.security.sealing import Sealer, seal
from shared.security.signing import Signer
from shared.validation.errors import rules_broken

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outbound:
    """One fact for one other place. An exporter yields at most one per destination and member
    per event (the member's stream would otherwise carry one seq twice)."""

    to_place: str
    direction: str
    event: WireEvent
    member_id: str


Exporter = Callable[[Any], list[Outbound]]
# An exporter may carry, as attributes: `topics`, the stored topics of the only events it makes
# facts of (`exported_topics`; the log's other events are not read for it at all), and
# `prefetch(events)`, which brings in step at once the aggregates a batch's facts are made from.


def exported_topics(*classes: type) -> tuple[str, ...]:
    """The stored topics of these event classes and of every subclass of them: an aggregate
    that subclasses another redefines its base's events under its own name (`MobileMember`'s
    `LetterIssued` is stored as `...member:MobileMember.LetterIssued`)."""
    found: set[str] = set()
    todo = list(classes)
    while todo:
        cls = todo.pop()
        topic = get_topic(cls)
        if topic not in found:
            found.add(topic)
            todo.extend(cls.__subclasses__())
    return tuple(sorted(found))


def exported_notifications(
    app: LiangdiApplication, exporter: Any, start: int, limit: int, stop: int | None = None
) -> tuple[list[Any], int | None]:
    """The notifications after `start` (up to `stop`) the exporter may make facts of, and the
    id up to which the log is read with them (None when nothing was there).

    With the exporter's `topics`, only its events are read: at the host, nearly every stored
    event is an arrival's own record (the imported departure, the person's index) that the
    origin never hears of, and reading and decoding them was a sixth of the host's time in a
    drain (docs/performance.md, "Seventh pass"). How far the log is read is then the head as it
    stood before the read (`stop`), unless the batch came full: ids commit in order (the
    store's table lock), so no event up to that head can still appear.
    """
    topics = getattr(exporter, "topics", None)
    if not topics:
        notifications = list(
            app.recorder.select_notifications(
                start=start, limit=limit, stop=stop, inclusive_of_start=False
            )
        )
        return notifications, (notifications[-1].id if notifications else None)
    head = app.recorder.max_notification_id() or 0
    if stop is not None:
        head = min(head, stop)
    if head <= start:
        return [], None
    notifications = list(
        app.recorder.select_notifications(
            start=start, limit=limit, stop=head, topics=list(topics), inclusive_of_start=False
        )
    )
    return notifications, (notifications[-1].id if len(notifications) == limit else head)


class Relay:
    sealer: Sealer | None = None  # set by the runtime (docs/security.md, sealed personal data)

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
        self.links = LinkStore(positions.engine)
        self.head = 0
        self.last_error: str | None = None
        self.last_error_at: float | None = None
        self.errors = 0
        self.healthy = True
        # Its reads and commits never wait behind the requests' threads (shared/lanes.py); one
        # after another also across terms: a new term's reload waits for the last commit.
        self.lane = Lane(f"relay-{service}")
        self.reload()

    def reload(self) -> None:
        """At start and on becoming the leader: continue from the store, not from memory."""
        self.position = self.positions.get(self.name)
        routes = self.links.load_routes(self.name)
        upgraded = bool(self.position and not routes)
        if upgraded or any(seq > self.position for seq in routes.values()):
            # The position was set back (an operator's re-publish): derive the routes from the
            # log itself, as they stood at the position. A store whose relay predates per-member
            # chains (its receivers tracked facts per aggregate) starts every chain afresh, so
            # the first new fact of a member is not held up waiting for an old one.
            routes = {} if upgraded else self._routes_at(self.position)
            routes[("", "")] = 0  # marks the routes as derived, even if nothing was ever sent
            with self.positions.engine.begin() as conn:
                self.links.replace_routes(conn, self.name, routes)
        self._routes: dict[Route, int] = routes
        self.unsent, _ = self.links.load_unsent(self.name, limit=0)
        counters = self.links.load_counts(self.name)
        # Per destination, cumulative: facts published, and the JetStream sequence and event
        # time of the last acknowledged one (the links view compares them with the receiver's).
        self.per_destination = {to: c.get("published", 0) for to, c in counters.items()}
        self.last_stream_seq = {
            to: c["last_stream_seq"] for to, c in counters.items() if "last_stream_seq" in c
        }
        self.last_event_time = {
            to: c["last_event_time_ms"] / 1000
            for to, c in counters.items()
            if "last_event_time_ms" in c
        }

    @property
    def published(self) -> int:
        return sum(self.per_destination.values())

    def envelopes(self, start: int) -> tuple[list[Envelope], int | None]:
        """The messages for notifications after `start`, and the last notification id read."""
        envelopes, last_id, _, _ = self._batch(start)
        return envelopes, last_id

    def _batch(
        self, start: int
    ) -> tuple[list[Envelope], int | None, dict[Route, int], list[dict[str, Any]]]:
        """Messages after `start`, the last id read, the routes they move on (uncommitted), and
        the facts that cannot be sent (recorded with the position)."""
        notifications, last_id = exported_notifications(self.app, self.exporter, start, self.batch)
        known = self._routes if start == self.position else self._routes_at(start)
        moved: dict[Route, int] = {}
        out: list[Envelope] = []
        unsendable: list[dict[str, Any]] = []
        events = [self.app.mapper.to_domain_event(n) for n in notifications]
        prefetch = getattr(self.exporter, "prefetch", None)
        if prefetch is not None:  # the aggregates its facts need, in one query
            prefetch(events)
        for notification, event in zip(notifications, events, strict=True):
            for index, outbound in enumerate(self._export(notification.id, event, unsendable)):
                route = (outbound.to_place, outbound.member_id)
                if moved.get(route) == notification.id:
                    # One seq per fact and member: a second one would be refused downstream.
                    # An exporter bug stops the relay visibly rather than drop a fact.
                    raise ValueError(f"exporter sent two facts to {route} for one event")
                previous = moved.get(route, known.get(route, 0))
                out.append(self._envelope(notification.id, index, event, outbound, previous))
                moved[route] = notification.id
        if len(notifications) < self.batch:
            # Nothing more after what was read: the head is known without asking the store.
            self.head = max(self.head, last_id or start)
        else:
            self.head = self.app.recorder.max_notification_id() or 0
        return out, last_id, moved, unsendable

    def _export(self, notification_id: int, event: Any, unsendable: list[dict[str, Any]]) -> Any:
        """The exporter's facts for one event; none when the wire contract refuses a stored value.

        Such a fact can never be sent as it is; blocking on it would stop the link for every
        member. It is skipped and recorded (`liangdi_relay_unsent`, the relay's status), never
        silently. Any other error (the store unreachable) stops this round and is retried.
        """
        try:
            return self.exporter(event)
        except ValidationError as exc:
            unsendable.append(
                {
                    "notification_id": notification_id,
                    "event_type": type(event).__qualname__[:200],
                    "originator_id": str(event.originator_id)[:200],
                    "error": rules_broken(exc),
                    "recorded_at": time.time(),
                }
            )
            log.warning("relay: fact %s not sent: %s", notification_id, rules_broken(exc))
            return []

    def _routes_at(self, position: int) -> dict[Route, int]:
        """Per (destination, member), the last fact up to `position`: read from the log."""
        routes: dict[Route, int] = {}
        start = 0
        while start < position:
            notifications, read_to = exported_notifications(
                self.app, self.exporter, start, 500, stop=position
            )
            if read_to is None:
                break
            for notification in notifications:
                event = self.app.mapper.to_domain_event(notification)
                for outbound in self._export(notification.id, event, []):
                    routes[(outbound.to_place, outbound.member_id)] = notification.id
            start = read_to
        return routes

    def _envelope(
        self, notification_id: int, index: int, event: Any, out: Outbound, prevseq: int
    ) -> Envelope:
        """The one place a message is built (the relay's and anti-entropy re-sends alike)."""
        envelope = new_envelope(
            event_id=f"{self.place}.{self.service}.{notification_id}.{index}",
            service=self.service,
            event=out.event,
            member_id=out.member_id,
            from_place=self.place,
            to_place=out.to_place,
            direction=out.direction,
            stream=out.member_id,
            seq=notification_id,
            prevseq=prevseq,
            time=event.timestamp,
        )
        envelope = seal(self.sealer, envelope)  # before signing: the signature covers it sealed
        return self.signer.sign(envelope) if self.signer else envelope

    def _round(self, start: int) -> tuple[list[Envelope], list[tuple[str, bytes, str]], Any]:
        """A round's messages and their wire form (subject, bytes, message id), made on the
        relay's own thread: the event loop it shares with the offices' requests only sends."""
        envelopes, *rest = self._batch(start)
        wire = [
            (
                event_subject(e.direction, e.from_place, e.to_place, e.subject),
                e.to_bytes(),
                e.id,
            )
            for e in envelopes
        ]
        return envelopes, wire, rest

    async def run_once(self, js: JetStreamContext) -> int:
        envelopes, wire, (last_id, moved, unsendable) = await self.lane.run(
            self._round, self.position
        )
        if last_id is None:
            return 0
        futures: list[asyncio.Future[Any]] = []
        try:
            # One bound for all of the round's sends, not one per message: nats-py starts a
            # task for a bounded send, and each such task waited its turn behind every HTTP
            # request of the loop (tens of milliseconds a message under the offices' load).
            await asyncio.wait_for(self._send(js, wire, futures), timeout=self.ack_timeout)
            # An error reply can leave a future unresolved: never wait on one without a bound.
            acks = await asyncio.wait_for(asyncio.gather(*futures), timeout=self.ack_timeout)
        finally:
            # Cancelling releases each future's slot in the client's pending-publish bound; an
            # abandoned future would hold it for good and stall the relay after a few outages.
            for future in futures:
                if not future.done():
                    future.cancel()
        deltas: Counters = {}
        for envelope, ack in zip(envelopes, acks, strict=True):
            # Counted with the position, once per fact: a re-publish after a crash (acked as a
            # JetStream duplicate or not) replaces an attempt that was never counted.
            counters = deltas.setdefault(envelope.to_place, {})
            counters["published"] = counters.get("published", 0) + 1
            counters["last_stream_seq"] = max(counters.get("last_stream_seq", 0), ack.seq)
            counters["last_event_time_ms"] = int(envelope.time.timestamp() * 1000)
        await self.lane.run(self._commit, last_id, moved, deltas, unsendable)
        self.healthy = True
        return len(envelopes) or 1

    @staticmethod
    async def _send(
        js: JetStreamContext,
        wire: list[tuple[str, bytes, str]],
        futures: list[asyncio.Future[Any]],
    ) -> None:
        """Publishes without waiting for acknowledgements; `futures` gets one per message as it
        goes, so that the caller can cancel what was sent if the round is cut short."""
        for subject, payload, message_id in wire:
            futures.append(
                await js.publish_async(subject, payload, headers={"Nats-Msg-Id": message_id})
            )

    def _commit(
        self,
        last_id: int,
        moved: dict[Route, int],
        deltas: Counters,
        unsendable: list[dict[str, Any]] = (),  # type: ignore[assignment]
    ) -> None:
        """Position, routes, counters and unsendable facts in one transaction: all or nothing."""
        with self.positions.engine.begin() as conn:
            self.positions.set(self.name, last_id, conn)
            self.links.save_routes(conn, self.name, moved)
            self.links.add_counts(self.name, deltas, conn)
            self.links.record_unsent(conn, self.name, list(unsendable))
        self.unsent += len(unsendable)
        self.position = last_id
        self._routes.update(moved)
        for to_place, counters in deltas.items():
            self.per_destination[to_place] = self.per_destination.get(to_place, 0) + counters.get(
                "published", 0
            )
            self.last_stream_seq[to_place] = max(
                self.last_stream_seq.get(to_place, 0), counters["last_stream_seq"]
            )
            self.last_event_time[to_place] = counters["last_event_time_ms"] / 1000

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
            "per_destination": dict(self.per_destination),
            "last_stream_seq": dict(self.last_stream_seq),
            "last_event_time": dict(self.last_event_time),
            "unsent": self.unsent,
            "healthy": self.healthy,
            "errors": self.errors,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at,
            "at": time.time(),
        }
