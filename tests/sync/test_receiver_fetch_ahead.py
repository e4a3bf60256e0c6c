"""The receiver takes its next batch from the consumer while it applies one (real PostgreSQL and
nats-server): a backlog's batches follow one another without a round trip to the server in
between, every fact is still applied once and in order, and a batch fetched ahead when an
operator pauses the link is given back, not applied."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import nats

from shared.messaging.pull import FETCH_BATCH
from shared.messaging.topology import (
    CONTROL_BUCKET,
    EVENTS_STREAM,
    ensure_topology,
    pause_key,
    receiver_durable,
)
from tests.sync.kit import HOST, Receiver, Sender, eventually

LEDGERS, NOTES = 120, 5  # 600 facts: more than two batches (FETCH_BATCH each)


def _held_first_batch(receiver: Receiver) -> tuple[threading.Event, list[int]]:
    """The receiver's first batch waits (in its own thread) until the event is set."""
    release, sizes = threading.Event(), []
    apply = receiver.processor.process_batch

    def process_batch(deliveries: list[Any]) -> Any:
        sizes.append(len(deliveries))
        if len(sizes) == 1:
            release.wait(30)
        return apply(deliveries)

    receiver.processor.process_batch = process_batch  # type: ignore[method-assign]
    return release, sizes


async def _backlog(sender: Sender, js: Any) -> list[Any]:
    await sender.agent.start()
    ids = [await asyncio.to_thread(sender.app.open_and_note, HOST, NOTES) for _ in range(LEDGERS)]
    await eventually(
        lambda: sender.relay.published >= LEDGERS * NOTES, message="the backlog published"
    )
    return ids


async def _fetched_ahead(js: Any, sizes: list[int]) -> None:
    """While the first batch is being applied, the next one is taken from the consumer: more
    is delivered (and not yet acknowledged) than one fetch asks for."""
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        info = await js.consumer_info(EVENTS_STREAM, receiver_durable("inflow", HOST))
        if info.num_ack_pending > FETCH_BATCH:
            return
        assert asyncio.get_running_loop().time() < deadline, (
            f"{info.num_ack_pending} delivered while the first batch ({sizes[0]}) was applied"
        )
        await asyncio.sleep(0.05)


@dataclass
class _Link:
    """A backlog published, the receiver started with its first batch held (`release`)."""

    receiver: Receiver
    js: Any
    ids: list[Any]
    release: threading.Event
    sizes: list[int]

    def all_applied(self) -> bool:
        mirrors = [self.receiver.app.mirror(str(i)) for i in self.ids]
        return all(seen == list(range(1, NOTES + 1)) for seen in mirrors)


@asynccontextmanager
async def _first_batch_held(schema_url: Any, nats_url: str, **agent: Any) -> AsyncIterator[_Link]:
    sender, receiver = (
        Sender(schema_url("o"), nats_url),
        Receiver(schema_url("h"), nats_url, **agent),
    )
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await ensure_topology(js)
    release, sizes = _held_first_batch(receiver)
    try:
        ids = await _backlog(sender, js)
        await receiver.agent.start()
        await eventually(lambda: sizes, message="the first batch taken")
        yield _Link(receiver, js, ids, release, sizes)
    finally:
        release.set()
        await sender.agent.stop()
        await receiver.agent.stop()
        await nc.close()
        sender.close()
        receiver.close()


async def test_the_next_batch_is_fetched_while_one_is_applied(schema_url, nats_server) -> None:
    async with _first_batch_held(schema_url, nats_server.url) as link:
        await _fetched_ahead(link.js, link.sizes)
        link.release.set()
        await eventually(link.all_applied, message="every note applied once, in order")
        assert link.receiver.processor.counts["applied"] == LEDGERS * NOTES


async def test_a_batch_fetched_ahead_is_not_applied_while_the_link_is_paused(
    schema_url, nats_server
) -> None:
    async with _first_batch_held(schema_url, nats_server.url, pause_delay=0.5) as link:
        control = await link.js.key_value(CONTROL_BUCKET)
        first, applied = link.sizes[0], link.receiver.processor.counts
        await _fetched_ahead(link.js, link.sizes)
        await control.put(pause_key("inflow", HOST), b"1")  # an operator pauses the link
        await eventually(lambda: link.receiver.agent.paused, message="the pause seen")
        link.release.set()  # the batch under way when the pause came completes
        await eventually(lambda: applied["applied"] >= first)
        await asyncio.sleep(1.5)  # the ahead batch would have been applied by now
        assert applied["applied"] == first
        assert len(link.sizes) == 1, f"a batch was applied while paused: {link.sizes}"
        await control.put(pause_key("inflow", HOST), b"0")
        await eventually(link.all_applied, message="every note applied once, after the pause")
        assert applied["applied"] == LEDGERS * NOTES
