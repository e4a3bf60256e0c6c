"""Benchmark 5, anti-entropy: N members on each side, one fact missing at the host.

An origin, a host and the sync service in-process. The members depart and reach the host; then,
with the host down, one more departure is published and purged from the stream before the host
reads it (a lost store). Timed: the sync service's repair run (`POST /admin/antientropy/runs`,
mode repair) until the host's read model holds that member. Bytes: what the places and the sync
service sent to nats-server during the run (its `/varz` in_bytes), against a full re-send of the
link (the bytes of every fact the stream holds for it).
"""

from __future__ import annotations

import asyncio
import random
import time
from contextlib import ExitStack
from typing import Any

import httpx
import nats

from bench.common import Figure, median, schemas, stream_size, wait_until
from bench.replication import HOST, ORIGIN, HostTable, _backlog, depart, register
from shared.messaging.topology import EVENTS_STREAM, event_subject
from tests.support.harness import auth, running, settings_for

ADMIN = auth("sync_admin")


def _in_bytes(server: Any) -> int:
    varz = httpx.get(f"http://127.0.0.1:{server.monitor_port}/varz", timeout=5).json()
    return int(varz["in_bytes"])


def _purge(nats_url: str, member_id: str) -> None:
    async def purge() -> None:
        nc = await nats.connect(nats_url)
        subject = event_subject("o2h", ORIGIN, HOST, member_id)
        await nc.jetstream().purge_stream(EVENTS_STREAM, subject=subject)
        await nc.close()

    asyncio.run(purge())


def run(database: str, server: Any, *, rounds: int, members: int) -> list[Figure]:
    nats_url = server.url
    rng = random.Random(5)
    seconds, shares = [], []
    with schemas(database, "o", "h", "s") as (origin_db, host_db, sync_db), ExitStack() as stack:
        origin = settings_for("outflow", origin_db, nats_url, ORIGIN)
        host = settings_for("inflow", host_db, nats_url, HOST)
        sync = stack.enter_context(running("sync", settings_for("sync", sync_db, nats_url)))
        out = stack.enter_context(running("outflow", origin))
        table = HostTable(host_db)
        stack.callback(table.close)
        with running("inflow", host):
            _backlog(out, members, rng)
            wait_until(lambda: table.count() >= members, 300, "the members at the host")
        expected = members
        for _ in range(rounds):
            published = stream_size(nats_url, EVENTS_STREAM)[0]
            lost = register(out, rng)
            depart(out, lost, rng)
            wait_until(
                lambda p=published: stream_size(nats_url, EVENTS_STREAM)[0] > p,
                60,
                "the departure published",
                every=0.1,
            )
            _purge(nats_url, lost)
            expected += 1
            with running("inflow", host):
                # Both places must be in the status bucket before the sync service asks them.
                time.sleep(1.5)
                full = stream_size(nats_url, EVENTS_STREAM)[1]
                before, started = _in_bytes(server), time.monotonic()
                response = sync.post(
                    "/admin/antientropy/runs", json={"mode": "repair"}, headers=ADMIN
                )
                response.raise_for_status()
                wait_until(lambda e=expected: table.count() >= e, 60, "the lost fact repaired")
                seconds.append(time.monotonic() - started)
                shares.append(100 * (_in_bytes(server) - before) / max(full, 1))
    size = f"{members} members each side, {rounds} rounds of one missing fact"
    return [
        Figure("antientropy.repair", median(seconds), "s", None, "< 5", seconds, size=size),
        Figure(
            "antientropy.bytes",
            median(shares),
            "% of a full re-send",
            None,
            "< 1",
            shares,
            size=size,
            note="bytes into nats-server during the run (status heartbeats included)",
        ),
    ]
