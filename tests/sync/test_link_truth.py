"""Operators see the truth within seconds (docs/sync.md, "Links"): a parked fact shows as parked,
a NATS outage shows every link as `unknown` (and the sync service's /readyz as degraded) instead
of `running`, the links run again once NATS is back (no error left over on an idle link), a place
that stops reporting shows as `unknown` with its name, and the figures read off the stream and
the stored dead letters do not restart from zero with the sync service."""

from __future__ import annotations

import asyncio
from typing import Any

import nats

from shared.messaging.topology import ensure_topology, event_subject
from tests.support.harness import auth, running, settings_for
from tests.sync.kit import HOST, ORIGIN, Receiver, Sender, eventually

AUDITOR = auth("auditor")


def call(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    return asyncio.to_thread(fn, *args, **kwargs)


async def publish(url: str, items: list[tuple[str, bytes, str]]) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream()
    await ensure_topology(js)
    for subject, data, msg_id in items:
        await js.publish(subject, data, headers={"Nats-Msg-Id": msg_id})
    await nc.close()


def envelope_item(envelope: Any) -> tuple[str, bytes, str]:
    subject = event_subject(
        envelope.direction, envelope.from_place, envelope.to_place, envelope.subject
    )
    # Another store's ids: the same numbers as the relayed ones, which JetStream would drop.
    return subject, envelope.to_bytes(), f"by-hand-{envelope.id}"


async def test_links_tell_the_truth_within_seconds(schema_url, nats_server) -> None:
    url = nats_server.url
    sender = Sender(schema_url("o"), url)
    receiver = Receiver(schema_url("h"), url)
    by_hand = Sender(schema_url("o2"), url)  # facts of the same origin, published by the test
    settings = settings_for("sync", schema_url("s"), url, error_hold_seconds=4.0)
    try:
        await sender.agent.start()
        await receiver.agent.start()
        with running("sync", settings) as sync:

            def link() -> dict[str, Any]:
                links = sync.get("/admin/links", headers=AUDITOR).json()["links"]
                return next((x for x in links if x["from_place"] == ORIGIN), {})

            def shows(**expected: Any) -> dict[str, Any] | None:
                view = link()
                return view if all(view.get(k) == v for k, v in expected.items()) else None

            for _ in range(3):
                await call(sender.app.open_and_note, HOST, 2)
            await eventually(lambda: shows(state="running", applied=6, published=6, in_stream=6))

            # A fact whose predecessor is missing waits, and the link says so.
            await call(by_hand.app.open_and_note, HOST, 2)
            envelopes, _ = await call(by_hand.relay.envelopes, 0)
            await publish(url, [envelope_item(envelopes[1])])
            view = await eventually(lambda: shows(parked=1), message="parked on the link")
            assert view["state"] == "catching_up" and "1 parked" in view["state_reason"]
            await publish(url, [envelope_item(envelopes[0])])
            await eventually(lambda: shows(state="running", parked=0, applied=8, in_stream=8))

            garbage = b'{"specversion": "1.0"}'
            await publish(url, [(event_subject("o2h", ORIGIN, HOST, "x"), garbage, "garbage-1")])
            await eventually(lambda: shows(dead_lettered=1, in_stream=9), message="dead letter")

            # NATS goes away: nothing the sync service shows is current any more.
            nats_server.stop()
            view = await eventually(lambda: shows(state="unknown"), message="unknown in outage")
            assert "not connected to NATS" in view["state_reason"]
            ready = sync.get("/readyz")
            assert ready.status_code == 503, ready.text
            assert ready.json()["status"] == "degraded" and "NATS" in ready.json()["reason"]

            # NATS is back: the idle link runs again, no error left over from the outage.
            nats_server.start()
            view = await eventually(
                lambda: shows(state="running", current_error=None),
                timeout=40,
                message="running again after the outage",
            )
            assert view["receiver_seen"] and view["sender_seen"]
            assert sync.get("/readyz").status_code == 200

            # A place that stops reporting is named.
            await receiver.agent.stop()
            view = await eventually(lambda: shows(state="unknown"), message="receiver gone")
            assert f"no status from inflow {HOST}" in view["state_reason"], view

        # The sync service restarts: what it reads off the stream and its store is still whole.
        with running("sync", settings) as sync:
            await eventually(
                lambda: shows(dead_lettered=1, in_stream=9), message="figures after restart"
            )
    finally:
        await sender.agent.stop()
        await receiver.agent.stop()
        for side in (sender, receiver, by_hand):
            side.close()
