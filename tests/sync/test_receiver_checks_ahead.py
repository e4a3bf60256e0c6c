"""The receiver checks a batch (envelope, signature, sealed fields, contract) on a thread of its
own while the batch before it is applied (docs/performance.md, "Eleventh pass"), against a real
nats-server and PostgreSQL: every message is checked once, there, and every fact still applies
once, in order."""

from __future__ import annotations

import asyncio
import threading

from tests.sync.kit import HOST, Receiver, Sender, eventually


async def test_messages_are_checked_ahead_on_the_checking_thread(schema_url, nats_server) -> None:
    sender = Sender(schema_url("o"), nats_server.url)
    receiver = Receiver(schema_url("h"), nats_server.url)
    threads: list[str] = []
    prepare = receiver.processor.prepare

    def recorded(raw: bytes, subject: str | None):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread().name)
        return prepare(raw, subject)

    receiver.processor.prepare = recorded  # type: ignore[method-assign]
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
