"""Benchmark: end-to-end throughput of departures → expected arrivals, against raw JetStream.

Real services in-process (their real lifespans), a real PostgreSQL and a nats-server of its own:

1. the origin records N departures with its link stopped (the backlog an outage leaves);
2. the origin's link and the host start; we time until the host's read model lists all N
   expected arrivals: relay → JetStream → receiver (checks, tracking, event store) → projection;
3. the raw baseline in the same run: N messages of the same size published asynchronously to a
   stream of their own and consumed by a durable pull consumer with explicit acks.

Prints both rates and their ratio, writes bench-results/sync.json. Run:
    .venv/bin/python bench/bench_sync.py [--members 400] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

import nats
import psycopg
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from shared.messaging.topology import EVENTS_STREAM  # noqa: E402
from tests.support.backends import NatsServer  # noqa: E402
from tests.support.harness import running, settings_for  # noqa: E402
from tests.sync.e2e import depart, host_auth, total  # noqa: E402

ORIGIN, HOST = "371326", "310115"


def end_to_end(database: str, nats_url: str, members: int) -> dict[str, float]:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    origin_db, host_db = f"{database}?schema={schema}_o", f"{database}?schema={schema}_h"
    rng = random.Random(1)
    try:
        offline = settings_for("outflow", origin_db, nats_url, ORIGIN, sync_enabled=False)
        started = time.monotonic()
        with running("outflow", offline) as out:
            for _ in range(members):
                depart(out, HOST, rng)
        writing = time.monotonic() - started
        host = settings_for("inflow", host_db, nats_url, HOST)
        origin = settings_for("outflow", origin_db, nats_url, ORIGIN)
        with running("inflow", host) as inflow:
            started = time.monotonic()
            with running("outflow", origin):
                while total(inflow, host_auth(HOST)) < members:
                    if time.monotonic() - started > 120:
                        raise SystemExit("arrivals did not complete within 120 s")
                    time.sleep(0.02)
                elapsed = time.monotonic() - started
        return {"seconds": elapsed, "events_per_second": members / elapsed, "writing": writing}
    finally:
        with psycopg.connect(database, autocommit=True) as conn:
            for suffix in ("_o", "_h"):
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}{suffix}" CASCADE')


async def message_size(nats_url: str) -> int:
    nc = await nats.connect(nats_url)
    info = await nc.jetstream().stream_info(EVENTS_STREAM)
    await nc.close()
    return int(info.state.bytes / max(info.state.messages, 1))


async def raw_jetstream(nats_url: str, count: int, size: int) -> dict[str, float]:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name="BENCH_RAW", subjects=["bench.raw.>"]))
    payload = b"x" * size
    config = ConsumerConfig(
        durable_name="bench", ack_policy=AckPolicy.EXPLICIT, max_ack_pending=512
    )
    sub = await js.pull_subscribe("bench.raw.>", durable="bench", stream="BENCH_RAW", config=config)
    started = time.monotonic()
    futures = [
        await js.publish_async(f"bench.raw.{n}", payload, headers={"Nats-Msg-Id": f"m{n}"})
        for n in range(count)
    ]
    await asyncio.wait_for(asyncio.gather(*futures), timeout=60)
    received = 0
    while received < count:
        for msg in await sub.fetch(batch=64, timeout=5):
            await msg.ack()
            received += 1
    elapsed = time.monotonic() - started
    await js.delete_stream("BENCH_RAW")
    await nc.close()
    return {"seconds": elapsed, "events_per_second": count / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=400)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--out", default=str(REPO / "bench-results" / "sync.json"))
    args = parser.parse_args()
    server = NatsServer(Path(tempfile.mkdtemp(prefix="liangdi-bench-"))).start()
    try:
        e2e = end_to_end(args.database_url, server.url, args.members)
        size = asyncio.run(message_size(server.url))
        raw = asyncio.run(raw_jetstream(server.url, args.members, size))
    finally:
        server.stop()
    ratio = e2e["events_per_second"] / raw["events_per_second"]
    result = {
        "members": args.members,
        "message_bytes": size,
        "end_to_end": {k: round(v, 3) for k, v in e2e.items()},
        "raw_jetstream": {k: round(v, 3) for k, v in raw.items()},
        "ratio_end_to_end_to_raw": round(ratio, 4),
        "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    print(f"end to end (departure → expected arrival): {e2e['events_per_second']:.1f} events/s")
    print(f"raw JetStream publish+consume ({size} B):  {raw['events_per_second']:.1f} msgs/s")
    print(f"ratio: {ratio:.3f}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
