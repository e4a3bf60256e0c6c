"""The receiver checks a batch (envelope, signature, sealed fields, contract) on a thread of its
own while the batch before it is applied (docs/performance.md, "Eleventh pass"), against a real
nats-server and PostgreSQL: every message is checked once, there, and every fact still applies
once, in order."""

from __future__ import annotations

import asyncio
import threading

import nats

from shared.config import InflowSettings
from shared.contracts.envelope import O2H
from shared.messaging.checks_apart import MIN_BATCH, ChecksApart
from shared.messaging.topology import EVENTS_STREAM
from tests.sync.kit import HOST, Receiver, Sender, eventually


def _recording(receiver: Receiver) -> list[str]:
    """The names of the threads the receiver's checks run on, one per message checked."""
    threads: list[str] = []
    prepare = receiver.processor.prepare

    def recorded(raw: bytes, subject: str | None):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread().name)
        return prepare(raw, subject)

    receiver.processor.prepare = recorded  # type: ignore[method-assign]
    return threads


async def test_messages_are_checked_ahead_on_the_checking_thread(schema_url, nats_server) -> None:
    sender = Sender(schema_url("o"), nats_server.url)
    receiver = Receiver(schema_url("h"), nats_server.url)
    threads = _recording(receiver)
    try:
        ids = [await asyncio.to_thread(sender.app.open_and_note, HOST, 5) for _ in range(40)]
        await sender.agent.start()  # a backlog of 200 facts, then the receiver
        await receiver.agent.start()
        await eventually(lambda: receiver.processor.counts["applied"] == 200, timeout=60)
        assert all(receiver.app.mirror(str(i)) == [1, 2, 3, 4, 5] for i in ids)
        assert len(threads) == 200  # each checked once: not again as it was applied
        assert {name.partition("_")[0] for name in threads} == {"checker-inflow"}
    finally:
        await sender.agent.stop()
        await receiver.agent.stop()
        sender.close()
        receiver.close()


async def test_a_backlog_is_checked_in_the_checking_process(schema_url, nats_server) -> None:
    """With its checking process up, the receiver's large batches are checked there, not on
    its thread, and every fact still applies once, in order (shared/messaging/checks_apart.py)."""
    sender = Sender(schema_url("o"), nats_server.url)
    receiver = Receiver(schema_url("h"), nats_server.url)
    checked_here = _recording(receiver)
    checks = ChecksApart(InflowSettings(place=HOST), O2H)
    receiver.processor.checks_apart = checks
    try:
        await eventually(lambda: checks.takes([(b"", None)] * MIN_BATCH), timeout=60)
        ids = [await asyncio.to_thread(sender.app.open_and_note, HOST, 5) for _ in range(40)]
        await sender.agent.start()
        await eventually(lambda: asyncio.run(published(nats_server.url)) >= 200, timeout=30)
        await receiver.agent.start()  # a backlog of 200 facts: one batch, checked apart
        await eventually(lambda: receiver.processor.counts["applied"] == 200, timeout=60)
        assert all(receiver.app.mirror(str(i)) == [1, 2, 3, 4, 5] for i in ids)
        assert checks.batches >= 1 and checks.failures == 0
        shown = receiver.agent.status()["receiver"]["checks_apart"]
        assert shown == {"running": True, "batches": checks.batches, "failures": 0} | {
            "last_failure": None
        }
        assert len(checked_here) < 200 - MIN_BATCH  # most not checked in this process at all
    finally:
        await sender.agent.stop()
        await receiver.agent.stop()
        sender.close()
        receiver.close()
    assert checks.pid is None  # the receiver's stop closed its checking process


async def published(url: str) -> int:
    nc = await nats.connect(url)
    try:
        return (await nc.jetstream().stream_info(EVENTS_STREAM)).state.messages
    finally:
        await nc.close()
