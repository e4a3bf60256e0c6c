"""Benchmark 1, commands: HTTP command throughput and latency of the outflow service.

The service runs as a real uvicorn process on PostgreSQL (link off: only the commands are
measured); 16 clients each repeat register → depart → verify for a few seconds. Baseline: the
bare eventsourcing application doing the same saves (a new aggregate, then two more events on
it) from as many threads on the same database, in the same run.
"""

from __future__ import annotations

import random
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import Figure, bare_saves, in_parallel, median, percentile, schemas
from tests.support.backends import free_port
from tests.support.factories import departure_body, member_body
from tests.support.harness import ServiceProcess, auth

ORIGIN, HOST = "371326", "310115"
HEADERS = auth("origin_operator", ORIGIN)
VERIFIED = {"checked_on": "2026-06-20", "file_ok": True, "address_ok": True, "contact_ok": True}


def _round(url: str, seconds: float, clients: int, seed: int) -> tuple[float, list[float]]:
    """One round: (commands/s, latencies in ms) of `clients` threads for `seconds`."""
    stop = time.monotonic() + seconds
    latencies: list[float] = []
    lock = threading.Lock()

    def client(n: int) -> int:
        rng = random.Random(seed * 1000 + n)
        done, mine = 0, []
        with httpx.Client(base_url=url, headers=HEADERS, timeout=30) as http:

            def command(path: str, body: dict[str, Any]) -> Any:
                started = time.perf_counter()
                response = http.post(path, json=body)
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code == 409:  # not done: the caller tries again
                    return None
                response.raise_for_status()
                with lock:
                    latencies.append(elapsed)
                return response.json()

            while time.monotonic() < stop:
                step = done % 3
                if step == 0:
                    path, body = "/api/v1/members", member_body(rng)
                elif step == 1:
                    path, body = f"/api/v1/members/{mine[-1]}/departures", departure_body(HOST, rng)
                else:
                    path, body = f"/api/v1/members/{mine[-1]}/verifications", VERIFIED
                result = command(path, body)
                if result is None:  # 409: a concurrent writer, or an ID number already taken
                    continue  # (random data): the same step again, with new data for a member
                if step == 0:
                    mine.append(result["member_id"])
                done += 1
        return done

    started = time.monotonic()
    in_parallel(client, list(range(clients)), clients)
    elapsed = time.monotonic() - started
    return len(latencies) / elapsed, latencies


def run(database: str, *, rounds: int, seconds: float, clients: int = 16) -> list[Figure]:
    with schemas(database, "cmd", "bare") as (store, bare):
        env = {
            "LIANGDI_DATABASE_URL": store,
            "LIANGDI_PLACE": ORIGIN,
            "LIANGDI_SYNC_ENABLED": "false",
        }
        logs = Path(tempfile.mkdtemp(prefix="liangdi-bench-cmd-"))
        service = ServiceProcess("outflow", free_port(), env, logs).start()
        try:
            _round(service.url, min(seconds, 1.0), clients, seed=0)  # warm-up: imports, pools
            rates, p50s, p99s = [], [], []
            for n in range(rounds):
                rate, latencies = _round(service.url, seconds, clients, seed=n + 1)
                rates.append(rate)
                p50s.append(percentile(latencies, 50))
                p99s.append(percentile(latencies, 99))
        finally:
            service.stop()
        baselines = [bare_saves(bare, seconds, clients) for _ in range(rounds)]
    size = f"{clients} clients, {rounds} x {seconds:g} s, register/depart/verify"
    base = median(baselines)
    return [
        Figure(
            "commands.throughput",
            median(rates),
            "commands/s",
            base,
            "ratio >= 1",
            rates,
            baselines,
            size,
        ),
        Figure("commands.p50", median(p50s), "ms", None, "", p50s, size=size),
        Figure("commands.p99", median(p99s), "ms", None, "< 50", p99s, size=size),
    ]
