"""No fact is lost when a receiver dies mid-batch (issue 9 §2), with the real services.

The origin departs members to 310115 and then records an origin evaluation for each: two
aggregates of the same member. The host's durable consumer hands the first departures to a
receiver that dies without acknowledging them (a raw client that fetches and never acks: exactly
what JetStream sees when a host is killed mid-batch). The restarted host gets the evaluations
before those departures come back (after `ack_wait`): they must wait for them, parked and
visible, never be refused and dead-lettered. Counters stay cumulative across restarts.
"""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import nats
import pytest

from shared.messaging.topology import (
    DEADLETTER_STREAM,
    EVENTS_STREAM,
    ensure_consumer,
    receiver_consumer,
)
from tests.support.backends import NatsServer
from tests.support.factories import departure_body, member_body
from tests.support.harness import auth, running, settings_for, wait_until

ORIGIN, HOST, YEAR = "371326", "310115", 2026
O_AUTH, H_AUTH = auth("origin_operator", ORIGIN), auth("host_operator", HOST)


async def _deliver_without_ack(url: str, count: int, withheld: int) -> list[str]:
    """Fetches the first `count` messages on the host's own durable consumer, hands back all but
    `withheld` of them (nak: redelivered at once), and dies holding the rest."""
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        config = receiver_consumer("inflow", HOST, "o2h")
        await ensure_consumer(js, EVENTS_STREAM, config)
        sub = await js.pull_subscribe_bind(durable=config.durable_name or "", stream=EVENTS_STREAM)
        held: list[Any] = []
        while len(held) < count:
            held += await sub.fetch(count - len(held), timeout=5)
        for msg in held[withheld:]:
            await msg.nak()
        return [json.loads(msg.data)["type"] for msg in held[:withheld]]
    finally:
        await nc.close()  # no ack, no nak: the messages come back only after ack_wait


async def _dead_letters(url: str) -> int:
    nc = await nats.connect(url)
    try:
        return (await nc.jetstream().stream_info(DEADLETTER_STREAM)).state.messages
    finally:
        await nc.close()


def _origin_evaluated_at_host(host: Any) -> int:
    page = host.get(
        "/api/v1/evaluations", params={"year": YEAR, "limit": 500}, headers=H_AUTH
    ).json()
    return sum(1 for item in page["items"] if item["origin_grade"] == "competent")


@pytest.mark.parametrize(
    ("members", "withheld", "max_ack_pending"),
    [
        (40, 25, 512),  # the reproduction: many delivered, unacknowledged, then evaluations
        (6, 6, 8),  # parked evaluations fill every free slot of max_ack_pending
    ],
)
def test_a_host_dying_mid_batch_loses_no_evaluation(
    pg_database_url: str,
    nats_server: NatsServer,
    monkeypatch: pytest.MonkeyPatch,
    members: int,
    withheld: int,
    max_ack_pending: int,
) -> None:
    monkeypatch.setenv("LIANGDI_RECEIVER_ACK_WAIT_SECONDS", "4")
    monkeypatch.setenv("LIANGDI_RECEIVER_MAX_ACK_PENDING", str(max_ack_pending))
    base, schema = pg_database_url.split("?")[0], pg_database_url.split("schema=")[1]
    origin = settings_for("outflow", f"{base}?schema={schema}_o", nats_server.url, ORIGIN)
    host = settings_for("inflow", f"{base}?schema={schema}_h", nats_server.url, HOST)
    rng = random.Random(9)
    with running("outflow", origin) as out:
        relay = out.app.state.runtime.relay
        ids = []
        for _ in range(members):
            created = out.post("/api/v1/members", json=member_body(rng), headers=O_AUTH)
            assert created.status_code == 201, created.text
            ids.append(created.json()["member_id"])
            departed = out.post(
                f"/api/v1/members/{ids[-1]}/departures",
                json=departure_body(HOST, rng),
                headers=O_AUTH,
            )
            assert departed.status_code == 201, departed.text
        for member_id in ids:
            evaluated = out.post(
                f"/api/v1/members/{member_id}/assessments/{YEAR}/origin-evaluation",
                json={"grade": "competent"},
                headers=O_AUTH,
            )
            assert evaluated.status_code == 200, evaluated.text
        wait_until(
            lambda: relay.per_destination.get(HOST) == 2 * members,
            message="every fact published",
        )
        # The host is killed holding the first departures: delivered, never acknowledged.
        held = asyncio.run(_deliver_without_ack(nats_server.url, members, withheld))
        assert len(held) == withheld and all(".member.departed.v" in t for t in held), held
        with running("inflow", host) as inflow:
            receiver = inflow.app.state.runtime.processor
            # Their evaluations arrive first and wait, visibly, for the departures to return.
            wait_until(
                lambda: receiver.status()["sources"].get(ORIGIN, {}).get("parked_now", 0) > 0,
                message="evaluations parked behind their departures",
            )
            wait_until(
                lambda: _origin_evaluated_at_host(inflow) == members,
                timeout=60,
                message="every origin evaluation applied at the host",
            )
            source = receiver.status()["sources"][ORIGIN]
            assert source["applied"] == 2 * members
            assert source["dead_letter"] == 0 and source["parked"] > 0
            assert receiver.status()["dead_by_reason"] == {}
        assert asyncio.run(_dead_letters(nats_server.url)) == 0
        # A restart of either side keeps the link's counters where they were.
        with running("inflow", host) as inflow:
            again = inflow.app.state.runtime.processor.status()["sources"][ORIGIN]
            assert again["applied"] == 2 * members and again["dead_letter"] == 0
            assert again["parked_now"] == 0
            assert again["last_stream_seq"] == 2 * members
    with running("outflow", origin) as out:
        assert out.app.state.runtime.relay.per_destination == {HOST: 2 * members}
