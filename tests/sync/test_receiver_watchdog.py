"""The receiver's watchdog (a fetch idle while its consumer has messages waiting means a stalled
subscription) against a real nats-server: an operator's replay under a fetch is not a stall."""

from __future__ import annotations

import asyncio

import nats

from shared.contracts.envelope import O2H
from shared.messaging.topology import (
    CONTROL_BUCKET,
    EVENTS_STREAM,
    pause_key,
    receiver_consumer,
    receiver_durable,
)
from tests.sync.kit import HOST, Receiver, Sender, eventually


async def test_a_replay_under_a_fetch_is_not_taken_for_a_stall(schema_url, nats_server) -> None:
    sender = Sender(schema_url("o"), nats_server.url)
    receiver = Receiver(schema_url("h"), nats_server.url, watchdog_after=1.0)
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    try:
        await sender.agent.start()
        await receiver.agent.start()
        for _ in range(4):
            await asyncio.to_thread(sender.app.open_and_note, HOST, 3)
        await eventually(lambda: receiver.processor.counts["applied"] == 12)
        await sender.agent.stop()
        kv = await js.key_value(CONTROL_BUCKET)
        for _ in range(3):  # each round: idle past the watchdog, then a replay from the start
            await asyncio.sleep(1.5)
            await kv.put(pause_key("inflow", HOST), b"1")
            await eventually(lambda: receiver.agent.paused, message="the pause seen")
            # What the sync service's replay does, at once, while a fetch may still be waiting.
            await js.delete_consumer(EVENTS_STREAM, receiver_durable("inflow", HOST))
            await js.add_consumer(
                EVENTS_STREAM, config=receiver_consumer("inflow", HOST, O2H, start_seq=1)
            )
            duplicates = receiver.processor.counts["duplicate"]
            await kv.put(pause_key("inflow", HOST), b"0")
            await eventually(
                lambda d=duplicates: receiver.processor.counts["duplicate"] == d + 12,
                message="the replay delivered again",
            )
        assert receiver.processor.counts["applied"] == 12
        assert receiver.agent.resubscribes == 0, receiver.agent.receiver_error
        assert receiver.agent.receiver_error is None
    finally:
        await nc.close()
        await sender.agent.stop()
        await receiver.agent.stop()
        sender.close()
        receiver.close()
