"""shared/messaging against real PostgreSQL and a real nats-server: exactly once, in member order,
duplicates counted, out-of-order facts parked, bad messages dead-lettered, the link flowing on."""

from __future__ import annotations

import asyncio
import json

import nats
import pytest

from shared.contracts.envelope import Envelope
from shared.messaging.receiver import DUPLICATE, PARKED
from shared.messaging.topology import DEADLETTER_STREAM, ensure_topology, event_subject
from shared.security.signing import Signer, generate_keypair
from tests.sync.kit import HOST, ORIGIN, Receiver, Sender, eventually


def subject_of(envelope: Envelope) -> str:
    return event_subject(
        envelope.direction, envelope.from_place, envelope.to_place, envelope.subject
    )


async def dead_letters(js, count: int) -> list:  # type: ignore[no-untyped-def]
    sub = await js.pull_subscribe(
        f"liangdi.dlq.inflow.{HOST}", durable=None, stream=DEADLETTER_STREAM
    )
    got: list = []
    for _ in range(20):
        if len(got) >= count:
            break
        try:
            got += await sub.fetch(count - len(got), timeout=1)
        except TimeoutError:
            continue
    await sub.unsubscribe()
    return got


@pytest.fixture
async def nats_js(nats_server):  # type: ignore[no-untyped-def]
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await ensure_topology(js)
    yield js
    await nc.close()


async def test_burst_applies_exactly_once_in_member_order(schema_url, nats_server) -> None:
    sender, receiver = (
        Sender(schema_url("o"), nats_server.url),
        Receiver(schema_url("h"), nats_server.url),
    )
    try:
        await sender.agent.start()
        await receiver.agent.start()
        ids = [await asyncio.to_thread(sender.app.open_and_note, HOST, 8) for _ in range(40)]
        for ledger_id in ids[:10]:  # later facts of members already in flight
            for n in (9, 10):
                await asyncio.to_thread(sender.app.note, ledger_id, n)
        expected = {str(i): list(range(1, 11 if i in ids[:10] else 9)) for i in ids}
        await eventually(
            lambda: all(receiver.app.mirror(m) == seqs for m, seqs in expected.items()),
            message="every note applied once, in order",
        )
        # A relay crash after publishing but before recording its position re-publishes all:
        # JetStream drops the copies inside its duplicate window, tracking would drop the rest.
        await asyncio.to_thread(sender.relay.positions.set, sender.relay.name, 0)
        sender.relay.reload()
        await eventually(lambda: sender.relay.position >= sender.relay.head > 0)
        await asyncio.sleep(1.0)
        assert all(receiver.app.mirror(m) == seqs for m, seqs in expected.items())
        assert receiver.processor.counts["applied"] == 340
    finally:
        await sender.agent.stop()
        await receiver.agent.stop()
        sender.close()
        receiver.close()


async def test_duplicates_are_ignored_and_counted(schema_url, nats_server, nats_js) -> None:
    sender, receiver = (
        Sender(schema_url("o"), nats_server.url),
        Receiver(schema_url("h"), nats_server.url),
    )
    try:
        member = str(await asyncio.to_thread(sender.app.open_and_note, HOST, 3))
        envelopes, _ = await asyncio.to_thread(sender.relay.envelopes, 0)
        for envelope in envelopes:
            await nats_js.publish(
                subject_of(envelope), envelope.to_bytes(), headers={"Nats-Msg-Id": envelope.id}
            )
        await receiver.agent.start()
        await eventually(lambda: receiver.app.mirror(member) == [1, 2, 3])
        same_id = await nats_js.publish(
            subject_of(envelopes[0]),
            envelopes[0].to_bytes(),
            headers={"Nats-Msg-Id": envelopes[0].id},
        )
        assert same_id.duplicate  # dropped by JetStream's duplicate window
        for n, envelope in enumerate(envelopes):  # new message ids: only tracking stops these
            await nats_js.publish(
                subject_of(envelope), envelope.to_bytes(), headers={"Nats-Msg-Id": f"again-{n}"}
            )
        await eventually(lambda: receiver.processor.counts[DUPLICATE] == 3, message="3 duplicates")
        assert receiver.app.mirror(member) == [1, 2, 3]
        assert receiver.processor.sources[ORIGIN]["duplicate"] == 3
        assert receiver.processor.counts["applied"] == 3
    finally:
        await receiver.agent.stop()
        sender.close()
        receiver.close()


async def test_out_of_order_fact_waits_then_applies(schema_url, nats_server, nats_js) -> None:
    sender, receiver = (
        Sender(schema_url("o"), nats_server.url),
        Receiver(schema_url("h"), nats_server.url),
    )
    try:
        member = str(await asyncio.to_thread(sender.app.open_and_note, HOST, 4))
        envelopes, _ = await asyncio.to_thread(sender.relay.envelopes, 0)
        await receiver.agent.start()
        # The stream holds 4, 3, 2 first: each must wait for its predecessor.
        for envelope in reversed(envelopes[1:]):
            await nats_js.publish(
                subject_of(envelope), envelope.to_bytes(), headers={"Nats-Msg-Id": envelope.id}
            )
        await eventually(
            lambda: receiver.processor.status()["parked_now"] == 3, message="three facts parked"
        )
        assert receiver.app.mirror(member) == []
        first = envelopes[0]
        await nats_js.publish(
            subject_of(first), first.to_bytes(), headers={"Nats-Msg-Id": first.id}
        )
        await eventually(lambda: receiver.app.mirror(member) == [1, 2, 3, 4])
        assert receiver.processor.counts[PARKED] >= 3
        # The gauge is counted once the batch has committed: a moment after the mirror shows it.
        await eventually(
            lambda: receiver.processor.status()["parked_now"] == 0, message="none parked"
        )
    finally:
        await receiver.agent.stop()
        sender.close()
        receiver.close()


async def test_malformed_forged_and_stuck_go_to_dead_letters_and_link_flows(
    schema_url, nats_server, nats_js
) -> None:
    private, public = generate_keypair()
    forger, _ = generate_keypair()
    sender = Sender(schema_url("o"), nats_server.url, signing_key=private)
    receiver = Receiver(
        schema_url("h"), nats_server.url, trusted=f"origin:{ORIGIN}={public}", park_timeout=1.0
    )
    try:
        await receiver.agent.start()
        bad_subject = event_subject("o2h", ORIGIN, HOST, "x")
        await nats_js.publish(bad_subject, b"{not json", headers={"Nats-Msg-Id": "bad-json"})
        member = str(await asyncio.to_thread(sender.app.open_and_note, HOST, 2))
        envelopes, _ = await asyncio.to_thread(sender.relay.envelopes, 0)
        forged = Signer(ORIGIN, forger).sign(envelopes[0])
        await nats_js.publish(subject_of(forged), forged.to_bytes(), headers={"Nats-Msg-Id": "f1"})
        # A fact whose predecessor never comes: parked, then dead-lettered after park_timeout.
        orphan = sender.relay.signer.sign(  # type: ignore[union-attr]
            envelopes[1].__class__(
                **{**envelopes[1].__dict__, "id": "orphan", "seq": 9, "prevseq": 7}
            )
        )
        await nats_js.publish(subject_of(orphan), orphan.to_bytes(), headers={"Nats-Msg-Id": "o1"})
        await sender.agent.start()
        await eventually(lambda: receiver.app.mirror(member) == [1, 2], message="good facts")
        letters = await dead_letters(nats_js, 3)
        reasons = sorted(m.headers["Liangdi-Reason-Class"] for m in letters)
        assert reasons == ["malformed", "out_of_order", "signature"], reasons
        forged_letter = next(m for m in letters if m.headers["Liangdi-Reason-Class"] == "signature")
        assert json.loads(forged_letter.data)["id"] == envelopes[0].id  # the original bytes
        assert forged_letter.headers["Liangdi-Subject"] == subject_of(forged)
        assert receiver.processor.dead_by_reason == {
            "malformed": 1,
            "signature": 1,
            "out_of_order": 1,
        }
    finally:
        await sender.agent.stop()
        await receiver.agent.stop()
        sender.close()
        receiver.close()
