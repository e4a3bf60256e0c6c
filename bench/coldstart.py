"""Benchmark 6, cold start and memory: the outflow service over a store of N events.

The store is filled over HTTP (members registered and departed, two events each, read models
caught up as in production); then the service is started as a real uvicorn process, timed from
spawn until `/readyz` answers 200, and its resident memory read from /proc. Baseline: the same
service on an empty store, in the same run.
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

import psycopg

from bench.common import Figure, median, schemas
from bench.replication import ORIGIN, _backlog
from tests.support.backends import free_port
from tests.support.harness import ServiceProcess, running, settings_for


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def _start(store: str, nats_url: str, logs: Path) -> tuple[float, float]:
    env = {"LIANGDI_DATABASE_URL": store, "LIANGDI_PLACE": ORIGIN, "LIANGDI_NATS_URL": nats_url}
    service = ServiceProcess("outflow", free_port(), env, logs)
    started = time.monotonic()
    service.start(wait=False)
    try:
        service.wait_ready(timeout=600)
        seconds = time.monotonic() - started
        assert service.process is not None
        return seconds, _rss_mb(service.process.pid)
    finally:
        service.stop()


def _events(store: str) -> int:
    base, schema = store.split("?")[0], store.split("schema=")[1]
    with psycopg.connect(base, options=f"-csearch_path={schema}") as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = %s AND table_name LIKE %s",
            (schema, "%_events"),
        ).fetchall()
        return sum(
            conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for (name,) in tables
        )


def run(database: str, nats_url: str, *, rounds: int, members: int) -> list[Figure]:
    logs = Path(tempfile.mkdtemp(prefix="liangdi-bench-cold-"))
    with schemas(database, "full", "empty") as (full, empty):
        with running("outflow", settings_for("outflow", full, nats_url, ORIGIN)) as out:
            _backlog(out, members, random.Random(3))
        events = _events(full)
        _start(empty, nats_url, logs)  # creates the empty store's tables: not a cold start
        timings, memory, base_timings, base_memory = [], [], [], []
        for _ in range(rounds):
            seconds, rss = _start(full, nats_url, logs)
            timings.append(seconds)
            memory.append(rss)
            seconds, rss = _start(empty, nats_url, logs)
            base_timings.append(seconds)
            base_memory.append(rss)
    size = f"{events} stored events, {rounds} starts"
    return [
        Figure(
            "coldstart.ready",
            median(timings),
            "s",
            median(base_timings),
            "< 5",
            timings,
            base_timings,
            size,
        ),
        Figure(
            "coldstart.rss",
            median(memory),
            "MB",
            median(base_memory),
            "< 300",
            memory,
            base_memory,
            size,
        ),
    ]
