"""Forged messages published straight into JetStream reach a real host service with trust keys
configured: each is dead-lettered with its reason, counted, and never applied; genuine messages
signed with either of the origin's two current keys are applied."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import nats
from nats.js.api import ConsumerConfig, DeliverPolicy

from shared.contracts.envelope import Envelope
from shared.messaging.topology import DEADLETTER_STREAM, deadletter_subject, event_subject
from shared.security.signing import Signer, generate_keypair
from tests.security.messages import departure, tampered
from tests.support.backends import NatsServer
from tests.support.harness import auth, running, settings_for, wait_until

ORIGIN, HOST, OTHER_HOST = "371326", "310115", "310112"


async def _publish(url: str, messages: list[tuple[str, Envelope]]) -> None:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        for subject, envelope in messages:
            await js.publish(subject, envelope.to_bytes(), headers={"Nats-Msg-Id": envelope.id})
    finally:
        await nc.close()


async def _dead_letters(url: str) -> list[dict[str, Any]]:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        subject = deadletter_subject("inflow", HOST)
        sub = await js.pull_subscribe(
            subject,
            stream=DEADLETTER_STREAM,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, filter_subject=subject),
        )
        found = []
        try:
            for msg in await sub.fetch(batch=100, timeout=1.0):
                found.append({"data": msg.data, **(msg.headers or {})})
        except TimeoutError:
            pass
        return found
    finally:
        await nc.close()


def test_forged_messages_are_dead_lettered_counted_and_never_applied(
    nats_server: NatsServer, pg_database_url: str
) -> None:
    origin_old, origin_new, host_key, stranger = (generate_keypair() for _ in range(4))
    trusted = (
        f"origin:{ORIGIN}={origin_old[1]},origin:{ORIGIN}={origin_new[1]},"
        f"host:{HOST}={host_key[1]},host:{OTHER_HOST}={generate_keypair()[1]}"
    )
    settings = settings_for(
        "inflow",
        pg_database_url,
        nats_server.url,
        HOST,
        signing_key=host_key[0],
        trusted_keys=trusted,
    )
    old, new = Signer(ORIGIN, origin_old[0]), Signer(ORIGIN, origin_new[0])
    genuine = [old.sign(departure(ORIGIN, HOST, seed=1)), new.sign(departure(ORIGIN, HOST, seed=2))]
    host_signed = Signer(HOST, host_key[0]).sign(departure(ORIGIN, HOST, seed=4))
    forged = {
        "not signed": departure(ORIGIN, HOST, seed=3),
        f"key {ORIGIN}:{stranger[1][:12]} is not trusted": Signer(ORIGIN, stranger[0]).sign(
            departure(ORIGIN, HOST, seed=5)
        ),
        f"signed by {HOST} but claims to come from {ORIGIN}": host_signed,
        "is not trusted": dataclasses.replace(
            Signer(HOST, host_key[0]).sign(departure(ORIGIN, HOST, seed=6)),
            keyid=f"{ORIGIN}:{host_key[1][:12]}",
        ),
        "signature does not match": tampered(
            old.sign(departure(ORIGIN, HOST, seed=7)), phone="13900000000"
        ),
        # a genuine message for another host, replayed onto this host's subject
        f"misaddressed: o2h to {OTHER_HOST}": old.sign(departure(ORIGIN, OTHER_HOST, seed=8)),
    }

    def subject(envelope: Envelope) -> str:
        return event_subject("o2h", ORIGIN, HOST, envelope.subject)

    with running("inflow", settings) as host:
        runtime = host.app.state.runtime
        wait_until(lambda: runtime.agent.ready.is_set(), message="host linked to NATS")
        asyncio.run(
            _publish(
                nats_server.url,
                [(subject(e), e) for e in forged.values()] + [(subject(e), e) for e in genuine],
            )
        )
        headers = auth("host_operator", HOST)

        def hosted() -> set[str]:
            items = host.get("/api/v1/members?limit=500", headers=headers).json()["items"]
            return {item["origin_member_id"] for item in items}

        wait_until(lambda: hosted() >= {e.subject for e in genuine}, message="genuine applied")
        letters = wait_until(
            lambda: (
                (found := asyncio.run(_dead_letters(nats_server.url)))
                and len(found) >= len(forged)
                and found
            ),
            message="every forgery dead-lettered",
        )
        assert runtime.processor.counts["dead_letter"] == len(forged)
        assert runtime.processor.counts["applied"] == len(genuine)
        assert hosted() == {e.subject for e in genuine}, "a forged message was applied"

    by_id = {e.id: reason for reason, e in forged.items()}
    reasons = {}
    for letter in letters:
        envelope_id = next(i for i in by_id if i.encode() in letter["data"])
        reasons[envelope_id] = letter["Liangdi-Reason"]
    assert set(reasons) == set(by_id), "each forgery has its own dead letter"
    for envelope_id, expected in by_id.items():
        assert expected in reasons[envelope_id], (expected, reasons[envelope_id])
