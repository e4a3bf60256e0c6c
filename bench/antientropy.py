"""Benchmark 5, anti-entropy: N members on each side, one fact missing at the host.

An origin, a host and the sync service in-process. The members depart and reach the host; then,
with the host down, one more departure is published and purged from the stream before the host
reads it (a lost store). Timed: the sync service's repair run (`POST /admin/antientropy/runs`,
mode repair) until the host's read model holds that member.

Bytes: what the anti-entropy exchange itself puts on the wire during the run — the sync
service's requests, the places' replies and the re-sent fact — counted by a listener of its own
on those subjects (`bench/wirecount.py`), against a full re-send of the link (every fact the
stream holds for it, sized the same way). nats-server's `/varz` `in_bytes` is not used: it also
counts every service's status heartbeat (one a second each) and whatever else runs, which at
this size outweighs the exchange. The bytes by kind of the median run are in the figure's note.

Size: the issue asks 100,000 members. Through the services a member costs two commands at the
origin and one applied fact at the host, so the full run uses the largest N that fills in about
a minute (bench/suite.py) and, as `antientropy.bytes_100k`, the
same exchange at 100,000 members run in-process on synthetic positions (`bench/aesim.py`), with
the full re-send sized at the measured bytes per fact. The exchange grows with log16(N) (one
level of at most 16 digests per side per factor 16), a full re-send with N.
"""

from __future__ import annotations

import asyncio
import random
import time
from contextlib import ExitStack
from typing import Any

import nats

from bench.aesim import simulate
from bench.common import Figure, median, schemas, stream_size, wait_until
from bench.replication import HOST, ORIGIN, HostTable, _backlog, depart, register
from bench.wirecount import WireCount, link_bytes
from shared.messaging.topology import EVENTS_STREAM, event_subject
from tests.support.harness import auth, running, settings_for

ADMIN = auth("sync_admin")


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
    seconds, shares, kinds, per_fact = [], [], [], []
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
                full, facts = link_bytes(nats_url, event_subject("o2h", ORIGIN, HOST, "*"))
                per_fact.append(full / facts)
                wire, started = WireCount(nats_url), time.monotonic()
                try:
                    response = sync.post(
                        "/admin/antientropy/runs", json={"mode": "repair"}, headers=ADMIN
                    )
                    response.raise_for_status()
                    wait_until(lambda e=expected: table.count() >= e, 60, "the lost fact repaired")
                    seconds.append(time.monotonic() - started)
                finally:
                    counted = wire.close()
                assert counted["re-sent facts"] > 0, f"no re-send counted: {dict(counted)}"
                shares.append(100 * sum(counted.values()) / full)
                kinds.append(counted)
    size = f"{members} members each side, {rounds} rounds of one missing fact"
    typical = kinds[shares.index(sorted(shares)[len(shares) // 2])]
    by_kind = ", ".join(f"{kind} {n}" for kind, n in sorted(typical.items()))
    fact = round(median(per_fact))
    simulated = 100 * simulate(100_000, fact, ORIGIN, HOST) / (100_000 * fact)
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
            note=f"the exchange's own subjects, bytes by kind: {by_kind}",
        ),
        Figure(
            "antientropy.bytes_100k",
            simulated,
            "% of a full re-send",
            None,
            "< 1",
            [simulated],
            size="100,000 members each side, one missing fact",
            note=f"in-process on synthetic positions (bench/aesim.py), {fact} bytes a fact",
        ),
    ]
