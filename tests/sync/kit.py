"""A small sender and receiver driving shared/messaging directly (no outflow/inflow domain).

The sender's `Ledger` aggregate (one per member) notes numbers 1, 2, 3...; each note crosses as a
`member.details_corrected` fact carrying the number; the receiver's `Mirror` appends what it
applies. Exactly once and in order means: every mirror holds 1..n, nothing else, in that order.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate, event

from shared.contracts.envelope import O2H, Envelope
from shared.contracts.events import MemberDetailsCorrected
from shared.contracts.registry import WireEvent
from shared.eventsourced import LiangdiApplication
from shared.eventstore import eventsourcing_env, sqlalchemy_engine
from shared.messaging.agent import PlaceAgent
from shared.messaging.leader import Leadership
from shared.messaging.receiver import InboundProcessor
from shared.messaging.relay import Outbound, Relay
from shared.positions import PositionStore
from shared.security.signing import Signer, TrustRegistry

ORIGIN, HOST = "371326", "310115"


class Ledger(Aggregate):
    @event("Opened")
    def __init__(self, to_place: str) -> None:
        self.to_place = to_place
        self.last = 0

    @event("Noted")
    def note(self, n: int) -> None:
        self.last = n


class Mirror(Aggregate):
    @staticmethod
    def create_id(member_id: str) -> uuid.UUID:
        return mirror_id(member_id)

    @event("Opened")
    def __init__(self, member_id: str) -> None:
        self.member_id = member_id
        self.seen: list[int] = []

    @event("Seen")
    def see(self, n: int) -> None:
        self.seen.append(n)


class SenderApp(LiangdiApplication):
    def open_and_note(self, to_place: str, count: int) -> uuid.UUID:
        ledger = Ledger(to_place)
        for n in range(1, count + 1):
            ledger.note(n)
        self.save(ledger)
        return ledger.id

    def note(self, ledger_id: uuid.UUID, n: int) -> None:
        ledger = self.repository.get(ledger_id)
        ledger.note(n)
        self.save(ledger)


class MirrorApp(LiangdiApplication):
    def mirror(self, member_id: str) -> list[int]:
        try:
            return list(self.repository.get(mirror_id(member_id)).seen)
        except AggregateNotFoundError:
            return []


def mirror_id(member_id: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"mirror/{member_id}")


def exporter(_: LiangdiApplication):  # type: ignore[no-untyped-def]
    def export(domain_event: Any) -> list[Outbound]:
        if isinstance(domain_event, Ledger.Noted):
            return [outbound(str(domain_event.originator_id), HOST, domain_event.n)]
        return []

    return export


def outbound(member_id: str, to_place: str, n: int) -> Outbound:
    return Outbound(
        to_place=to_place,
        direction=O2H,
        member_id=member_id,
        event=MemberDetailsCorrected(
            member_id=member_id, origin_place=ORIGIN, host_place=to_place, employer=f"n{n}"
        ),
    )


def importer(app: MirrorApp):  # type: ignore[no-untyped-def]
    def apply(envelope: Envelope, wire: WireEvent) -> list[Any]:
        assert isinstance(wire, MemberDetailsCorrected)
        try:
            mirror = app.repository.get(mirror_id(wire.member_id))
        except AggregateNotFoundError:
            mirror = Mirror(wire.member_id)
        mirror.see(int((wire.employer or "n0")[1:]))
        return [mirror]

    return apply


def open_app(cls: type[LiangdiApplication], url: str) -> Any:
    sqlalchemy_engine(url)  # creates the schema
    return cls(env=eventsourcing_env(url))


class Sender:
    def __init__(self, url: str, nats_url: str, signing_key: str = "", **agent: Any):
        self.engine = sqlalchemy_engine(url)
        self.app = open_app(SenderApp, url)
        signer = Signer(ORIGIN, signing_key) if signing_key else None
        self.relay = Relay(
            app=self.app,
            exporter=exporter(self.app),
            positions=PositionStore(self.engine),
            place=ORIGIN,
            service="outflow",
            signer=signer,
        )
        self.leadership = Leadership(url, self.relay.name)
        self.agent = PlaceAgent(
            servers=[nats_url],
            service="outflow",
            place=ORIGIN,
            relay=self.relay,
            processor=None,
            poll_interval=0.05,
            leadership=self.leadership,
            **agent,
        )

    def close(self) -> None:
        self.app.close()
        self.engine.dispose()


class Receiver:
    def __init__(
        self, url: str, nats_url: str, trusted: str = "", park_timeout: float = 3600.0, **agent: Any
    ):
        self.engine = sqlalchemy_engine(url)
        self.app = open_app(MirrorApp, url)
        self.processor = InboundProcessor(
            app=self.app,
            importer=importer(self.app),
            place=HOST,
            direction=O2H,
            trust=TrustRegistry.parse(trusted) if trusted else None,
            park_timeout=park_timeout,
        )
        self.agent = PlaceAgent(
            servers=[nats_url],
            service="inflow",
            place=HOST,
            relay=None,
            processor=self.processor,
            poll_interval=0.05,
            park_delay=0.3,
            **agent,
        )

    def close(self) -> None:
        self.app.close()
        self.engine.dispose()


async def eventually(
    predicate: Any, timeout: float = 30.0, message: str = "condition", shown: Any = None
) -> Any:
    """Bounded async retry; the predicate runs in a thread (it may query the database).
    `shown`, if given, says on a timeout what the predicate saw (a view, a state)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await asyncio.to_thread(predicate)
        if last:
            return last
        await asyncio.sleep(0.1)
    seen = await asyncio.to_thread(shown) if shown is not None else last
    raise AssertionError(f"timed out after {timeout}s waiting for {message}; last: {seen!r}")


def write_steadily(sender: Sender, ids: list, rounds: int, stop: threading.Event) -> None:
    for n in range(2, rounds + 1):
        if stop.is_set():
            return
        for ledger_id in ids:
            sender.app.note(ledger_id, n)


@asynccontextmanager
async def under_traffic(
    sender: Sender, receiver: Receiver, ledgers: int, rounds: int, flowing: int
) -> AsyncIterator[tuple[list[uuid.UUID], asyncio.Task[None]]]:
    """Both links started; `ledgers` members noted 1..`rounds` by a writer thread, which is
    under way (`flowing` facts applied) when the body starts. Yields the ids and the writer;
    afterwards stops the writer and both links and closes both places."""
    stop = threading.Event()
    try:
        await sender.agent.start()
        await receiver.agent.start()
        ids = [await asyncio.to_thread(sender.app.open_and_note, HOST, 1) for _ in range(ledgers)]
        writer = asyncio.create_task(asyncio.to_thread(write_steadily, sender, ids, rounds, stop))
        await eventually(lambda: receiver.processor.counts["applied"] >= flowing, message="flowing")
        yield ids, writer
    finally:
        stop.set()
        await sender.agent.stop()
        await receiver.agent.stop()
        sender.close()
        receiver.close()
