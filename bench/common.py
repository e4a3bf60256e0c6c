"""What every benchmark shares: figures with their baselines, statistics, backends, raw baselines.

A figure is the median of repeated runs with its spread (min..max), next to a raw baseline
measured in the same run on the same machine, so a slower machine moves both and the ratio stays
comparable (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import nats
import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig

DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass
class Figure:
    """One line of the table; `goal` is read as "value <op> bound" (e.g. ">= 5000")."""

    name: str
    value: float
    unit: str
    baseline: float | None
    goal: str
    runs: list[float] = field(default_factory=list)
    baseline_runs: list[float] = field(default_factory=list)
    size: str = ""
    note: str = ""
    ratio: float | None = None
    met: bool | None = None

    def settle(self) -> Figure:
        self.ratio = self.value / self.baseline if self.baseline else None  # None: no baseline
        self.met = goal_met(self.goal, self.value, self.ratio) if self.goal else None
        return self

    @property
    def spread(self) -> str:
        return f"{min(self.runs):.4g}..{max(self.runs):.4g}" if self.runs else ""

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["spread"] = [min(self.runs), max(self.runs)] if self.runs else []
        return out


def goal_met(goal: str, value: float, ratio: float | None) -> bool:
    """Every clause of `goal` holds; `ratio >= 0.3` reads the ratio, a bare bound the value."""
    for clause in goal.split(" and "):
        words = clause.split()
        subject = ratio if words[0] == "ratio" else value
        op, bound = words[-2], float(words[-1])
        if subject is None:
            return False
        ok = {"<": subject < bound, "<=": subject <= bound, ">": subject > bound}.get(
            op, subject >= bound
        )
        if not ok:
            return False
    return True


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, every: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise TimeoutError(f"benchmark: {what} not reached within {timeout:.0f} s")


def in_parallel(fn: Callable[[Any], Any], args: list[Any], workers: int) -> list[Any]:
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, args))


# -- backends --------------------------------------------------------------------------------------


@contextmanager
def schemas(database: str, *names: str) -> Iterator[list[str]]:
    """Database URLs on fresh PostgreSQL schemas, dropped afterwards."""
    run = uuid.uuid4().hex[:8]
    made = [f"bench_{run}_{name}" for name in names]
    with psycopg.connect(database, autocommit=True) as conn:
        for schema in made:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield [f"{database}?schema={schema}" for schema in made]
    finally:
        with psycopg.connect(database, autocommit=True) as conn:
            for schema in made:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@contextmanager
def nats_server() -> Iterator[Any]:
    """A nats-server of the benchmark's own (the test suite's, with its per-place users)."""
    from tests.support.backends import NatsServer

    server = NatsServer(Path(tempfile.mkdtemp(prefix="liangdi-bench-"))).start()
    try:
        yield server
    finally:
        server.stop()


# -- raw baselines ---------------------------------------------------------------------------------


async def _raw_jetstream(nats_url: str, count: int, size: int) -> float:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    stream = f"BENCH_RAW_{uuid.uuid4().hex[:6]}"
    await js.add_stream(StreamConfig(name=stream, subjects=[f"bench.{stream}.>"]))
    payload = b"x" * size
    config = ConsumerConfig(
        durable_name="bench", ack_policy=AckPolicy.EXPLICIT, max_ack_pending=512
    )
    sub = await js.pull_subscribe(
        f"bench.{stream}.>", durable="bench", stream=stream, config=config
    )
    started = time.monotonic()
    futures = [
        await js.publish_async(f"bench.{stream}.{n}", payload, headers={"Nats-Msg-Id": f"m{n}"})
        for n in range(count)
    ]
    await asyncio.wait_for(asyncio.gather(*futures), timeout=120)
    received = 0
    while received < count:
        for msg in await sub.fetch(batch=64, timeout=5):
            await msg.ack()
            received += 1
    elapsed = time.monotonic() - started
    await js.delete_stream(stream)
    await nc.close()
    return count / elapsed


def raw_jetstream(nats_url: str, count: int, size: int) -> float:
    """Messages/s of nats-py publishing `count` messages of `size` bytes to a stream and
    pull-consuming them with explicit acks: what the exchange would be with no work at all."""
    return asyncio.run(_raw_jetstream(nats_url, count, size))


async def _stream_bytes(nats_url: str, stream: str) -> tuple[int, int]:
    nc = await nats.connect(nats_url)
    try:
        info = await nc.jetstream().stream_info(stream)
        return int(info.state.messages), int(info.state.bytes)
    finally:
        await nc.close()


def stream_size(nats_url: str, stream: str) -> tuple[int, int]:
    """(messages, bytes) held by a stream."""
    return asyncio.run(_stream_bytes(nats_url, stream))


class BareMember(Aggregate):
    """An aggregate with the fields of a member record, in the bare application."""

    @event("Registered")
    def __init__(self, name: str, resident_id: str, phone: str, branch: str) -> None:
        self.name, self.resident_id, self.phone, self.branch = name, resident_id, phone, branch

    @event("Departed")
    def depart(self, host_place: str, employer: str, address: str, on: str) -> None:
        self.host_place, self.employer, self.address, self.on = host_place, employer, address, on


def bare_application(database_url: str) -> Application:
    """The bare eventsourcing application on PostgreSQL: what a save costs with nothing of ours."""
    from shared.eventstore import eventsourcing_env

    env = eventsourcing_env(database_url)
    env.pop("IS_SNAPSHOTTING_ENABLED", None)
    env.pop("AGGREGATE_CACHE_MAXSIZE", None)
    env["POSTGRES_POOL_SIZE"], env["POSTGRES_MAX_OVERFLOW"] = "16", "0"
    return Application(env=env)


def bare_saves(database_url: str, seconds: float, clients: int) -> float:
    """Saves/s of the bare application from `clients` threads for `seconds`, the same mix of
    saves as the commands benchmark (a new aggregate, or one more event on an existing one)."""
    app = bare_application(database_url)
    member = BareMember
    count, lock, stop = [0], threading.Lock(), time.monotonic() + seconds

    def client(n: int) -> None:
        done, m = 0, None
        while time.monotonic() < stop:
            if done % 3 == 0:
                m = member("王伟", f"37132619900101{n:04d}", "13800000000", "第1村党支部")
            else:  # the departure, then the verification: one more event each
                m.depart("310115", "上海建工集团", "上海市某路1号", "2026-03-01")
            app.save(m)
            done += 1
            with lock:
                count[0] += 1

    started = time.monotonic()
    in_parallel(client, list(range(clients)), clients)
    elapsed = time.monotonic() - started
    app.close()
    return count[0] / elapsed
