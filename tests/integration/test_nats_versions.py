"""The exchange works on Debian's nats-server 2.9 and on a current release alike: streams and
buckets are created idempotently, facts flow both ways, a malformed message is dead-lettered."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import nats
import pytest

from shared.messaging.topology import (
    CONTROL_BUCKET,
    DEADLETTER_STREAM,
    bucket_entries,
    ensure_topology,
    event_subject,
)
from tests.support.backends import NatsServer, drop_schema, nats_binaries
from tests.support.factories import departure_body, member_body
from tests.support.harness import auth, running, settings_for, wait_until

VERSIONS = nats_binaries()


def test_both_server_generations_are_present() -> None:
    # The test extra installs a current nats-server beside the system's 2.9: prove both here.
    assert len(VERSIONS) >= 2, VERSIONS


@pytest.mark.nats
@pytest.mark.parametrize("version", sorted(VERSIONS))
def test_exchange_on_server_version(
    version: str, tmp_path: Path, postgres_url: str, pg_database_url: str
) -> None:
    server = NatsServer(tmp_path / "nats", binary=VERSIONS[version]).start()
    base, schema = pg_database_url.split("?")[0], pg_database_url.split("schema=")[1]
    try:
        asyncio.run(_topology_twice(server.url))
        origin = settings_for("outflow", f"{base}?schema={schema}_o", server.url, "371326")
        host = settings_for("inflow", f"{base}?schema={schema}_h", server.url, "310115")
        with running("outflow", origin) as out, running("inflow", host) as inflow:
            o_auth, h_auth = auth("origin_operator", "371326"), auth("host_operator", "310115")
            rng = random.Random(version)
            member_id = out.post("/api/v1/members", json=member_body(rng), headers=o_auth).json()[
                "member_id"
            ]
            departed = out.post(
                f"/api/v1/members/{member_id}/departures",
                json=departure_body("310115", rng),
                headers=o_auth,
            ).json()
            items = wait_until(
                lambda: inflow.get("/api/v1/members", headers=h_auth).json()["items"],
                message=f"arrival over nats-server {version}",
            )
            reported = inflow.post(
                f"/api/v1/members/{items[0]['member_id']}/report",
                json={"certificate_no": departed["certificate_no"], "reported_on": "2026-03-05"},
                headers=h_auth,
            )
            assert reported.status_code == 204, reported.text
            wait_until(
                lambda: out.get(f"/api/v1/members/{member_id}", headers=o_auth).json()[
                    "reported_on"
                ],
                message="report back at the origin",
            )
            reason = asyncio.run(_malformed_is_dead_lettered(server.url))
            assert reason.startswith("malformed"), reason
    finally:
        server.stop()
        for suffix in ("_o", "_h"):
            drop_schema(postgres_url, schema + suffix)


@pytest.mark.nats
@pytest.mark.parametrize("version", sorted(VERSIONS))
def test_bucket_entries_are_exact_while_they_are_rewritten(version: str, tmp_path: Path) -> None:
    # The places rewrite their status keys every second. nats-py's `KeyValue.keys()` then
    # answers with keys counted twice, too few, none at all, or never (measured on 2.9 and 2.15
    # alike); the sync service's view froze on such a call. `bucket_entries` must stay exact,
    # and leave out a key deleted or purged (a place an operator removed).
    server = NatsServer(tmp_path / "nats", binary=VERSIONS[version]).start()
    try:
        answers = asyncio.run(_keys_under_rewrites(server.url, rounds=150))
    finally:
        server.stop()
    assert answers == [[f"key{i}" for i in range(6)]] * 150 + [["key0", "key2", "key3", "key4"]]


async def _keys_under_rewrites(url: str, rounds: int) -> list[list[str]]:
    nc = await nats.connect(url)
    js = nc.jetstream(timeout=10)
    await ensure_topology(js)
    kv = await js.key_value(CONTROL_BUCKET)
    writing = True

    async def rewrite(key: str) -> None:
        value = 0
        while writing:
            value += 1
            await kv.put(key, str(value).encode())

    async def listed() -> list[str]:
        return list(await asyncio.wait_for(bucket_entries(js, CONTROL_BUCKET), 10))

    writers = [asyncio.create_task(rewrite(f"key{i}")) for i in range(6)]
    await asyncio.sleep(0.2)  # every key written at least once
    try:
        try:
            answers = [await listed() for _ in range(rounds)]
        finally:
            writing = False
            await asyncio.gather(*writers)
        await kv.delete("key1")
        await kv.purge("key5")
        return [*answers, await listed()]
    finally:
        await nc.close()


async def _topology_twice(url: str) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream()
    await ensure_topology(js)
    await ensure_topology(js)  # a second process starting must not fail or change anything
    info = await js.stream_info(DEADLETTER_STREAM)
    assert info.config.duplicate_window == 600.0
    await nc.close()


async def _malformed_is_dead_lettered(url: str) -> str:
    nc = await nats.connect(url)
    js = nc.jetstream()
    subject = event_subject("o2h", "371326", "310115", "not-json")
    await js.publish(subject, b"{this is not json", headers={"Nats-Msg-Id": "bad-1"})
    sub = await js.pull_subscribe(
        "liangdi.dlq.inflow.310115", durable=None, stream=DEADLETTER_STREAM
    )
    messages = await sub.fetch(1, timeout=15)
    await nc.close()
    return messages[0].headers["Liangdi-Reason"]
