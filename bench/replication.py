"""Benchmarks 2-4, replication: throughput, latency and catch-up from an origin to a host.

Real services in-process (their real lifespans: relay, receiver, read models), a real PostgreSQL
and a nats-server of the benchmark's own:

- throughput: the origin records a backlog of departures with its link off (what an outage
  leaves), then its link and the host run; timed until the host's read model holds every
  expected arrival (relay → JetStream → receiver with tracking → projection). Baseline: raw
  nats-py JetStream publish + pull-consume of as many messages of the same size, same run.
- latency: departures at a steady rate; each from the origin's 2xx until the host's read model
  row exists (polled in the host's table every few milliseconds).
- catch-up: the host down while departures are published; timed from its restart until its read
  model holds them all (its start included), given as a rate: the issue's goal, 60,000 events in
  under 15 s, is 4,000 events/s.
A departure is the fact that travels: registering a member at home sends nothing.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import psycopg
from eventsourcing.persistence import RecordConflictError

from bench.common import (
    Figure,
    in_parallel,
    median,
    percentile,
    raw_jetstream,
    schemas,
    stream_size,
    wait_until,
)
from services.outflow.entrypoints.schemas import RecordDeparture, RegisterMember
from shared.domain_errors import DomainError
from shared.messaging.topology import EVENTS_STREAM
from tests.support.factories import departure_body, member_body
from tests.support.harness import auth, running, settings_for

ORIGIN, HOST = "371326", "310115"
O_AUTH = auth("origin_operator", ORIGIN)
WRITERS = 8


def _post(client: Any, path: str, body: Any) -> dict[str, Any]:
    for _ in range(20):  # a 409 is a concurrent writer: the write did not happen
        response = client.post(path, json=body, headers=O_AUTH)
        if response.status_code != 409:
            response.raise_for_status()
            return response.json()
    raise RuntimeError(f"{path} kept conflicting")


def register(client: Any, rng: random.Random) -> str:
    for _ in range(20):
        response = client.post("/api/v1/members", json=member_body(rng), headers=O_AUTH)
        if response.status_code != 409:  # 409: that ID number is taken (random data): another
            response.raise_for_status()
            return response.json()["member_id"]
    raise RuntimeError("registrations kept conflicting")


def depart(client: Any, member_id: str, rng: random.Random) -> None:
    _post(client, f"/api/v1/members/{member_id}/departures", departure_body(HOST, rng))


class HostTable:
    """The host's read model of expected arrivals, read directly (a query without HTTP)."""

    def __init__(self, url: str):
        base, schema = url.split("?")[0], url.split("schema=")[1]
        self.conn = psycopg.connect(base, autocommit=True, options=f"-csearch_path={schema}")

    def count(self) -> int:
        try:
            return self.conn.execute("SELECT count(*) FROM inflow_hosted_members").fetchone()[0]
        except psycopg.errors.UndefinedTable:
            return 0

    def arrived(self, members: list[str]) -> set[str]:
        """Which of these origin members the host's read model lists (an indexed look-up)."""
        rows = self.conn.execute(
            "SELECT origin_member_id FROM inflow_hosted_members WHERE origin_member_id = ANY(%s)",
            (members,),
        ).fetchall()
        return {row[0] for row in rows}

    def close(self) -> None:
        self.conn.close()


def _backlog(origin: Any, count: int, rng: random.Random, departs: bool = True) -> list[str]:
    """`count` members registered (and departed) by a few offices at once, through the origin's
    application service with the HTTP API's own request models (the commands' speed is
    benchmark 1; what an outage leaves behind is the same stored facts either way); then the
    origin's read models are brought up to date, as the HTTP path's read-your-writes would."""
    seeds = [rng.randrange(1 << 30) for _ in range(count)]
    runtime = origin.app.state.runtime

    def one(seed: int) -> str:
        own = random.Random(seed)
        member = _retry(
            lambda: runtime.app.register_member(
                **RegisterMember(**member_body(own)).model_dump(), recorded_by="bench"
            )
        )
        if departs:
            body = RecordDeparture(**departure_body(HOST, own)).model_dump()
            _retry(lambda: runtime.app.record_departure(member, **body, recorded_by="bench"))
        return str(member)

    members = in_parallel(one, seeds, WRITERS)
    runtime.read_models.catch_up()
    return members


def _retry(command: Callable[[], Any]) -> Any:
    """A conflict is a concurrent writer, or an ID number already taken (random data: the
    lambda draws new data from its generator): the command again."""
    for _ in range(20):
        try:
            return command()
        except (DomainError, RecordConflictError):
            continue
    raise RuntimeError("commands kept conflicting")


def run(
    database: str,
    nats_url: str,
    *,
    rounds: int,
    backlog: int,
    catch_up: int,
    latency_rate: float,
    latency_seconds: float,
) -> list[Figure]:
    rng = random.Random(7)
    rates, baselines, catch_ups, latencies = [], [], [], []
    achieved: list[float] = []
    with schemas(database, "o", "h") as (origin_db, host_db), ExitStack() as stack:
        offline = settings_for("outflow", origin_db, nats_url, ORIGIN, sync_enabled=False)
        online = settings_for("outflow", origin_db, nats_url, ORIGIN)
        host = settings_for("inflow", host_db, nats_url, HOST)
        expected = 0
        stack.enter_context(running("inflow", host))
        table = HostTable(host_db)
        for _ in range(rounds):
            with running("outflow", offline) as out:
                _backlog(out, backlog, rng)
            expected += backlog
            started = time.monotonic()
            with running("outflow", online):
                wait_until(lambda e=expected: table.count() >= e, 300, "the backlog drained")
                rates.append(backlog / (time.monotonic() - started))
            messages, size = stream_size(nats_url, EVENTS_STREAM)
            baselines.append(raw_jetstream(nats_url, backlog, size // max(messages, 1)))
        stack.close()  # the host goes down

        # Members to depart during the latency test, registered beforehand (nothing travels).
        with running("outflow", offline) as out:
            waiting = _backlog(out, int(latency_rate * latency_seconds) + 10, rng, departs=False)

        with running("outflow", online) as out:
            for _ in range(rounds):
                published = stream_size(nats_url, EVENTS_STREAM)[0]
                _backlog(out, catch_up, rng)
                expected += catch_up
                wait_until(
                    lambda p=published: stream_size(nats_url, EVENTS_STREAM)[0] >= p + catch_up,
                    600,
                    "the departures published",
                    every=0.2,
                )
                started = time.monotonic()
                with running("inflow", host):
                    wait_until(lambda e=expected: table.count() >= e, 300, "the host caught up")
                    catch_ups.append(catch_up / (time.monotonic() - started))

            with running("inflow", host):
                rate, delays = _latency(out, table, waiting, latency_rate, latency_seconds)
                achieved.append(rate)
                latencies.extend(delays)
        table.close()
    size = f"{rounds} rounds of {backlog} departures"
    return [
        Figure(
            "replication.throughput",
            median(rates),
            "events/s",
            median(baselines),
            ">= 5000 and ratio >= 0.3",
            rates,
            baselines,
            size,
        ),
        Figure(
            "replication.latency_p50",
            percentile(latencies, 50),
            "ms",
            None,
            "",
            [percentile(latencies, 50)],
            size=f"{len(latencies)} departures at {median(achieved):.0f}/s "
            f"(asked {latency_rate:g}/s)",
        ),
        Figure(
            "replication.latency_p99",
            percentile(latencies, 99),
            "ms",
            None,
            "< 100",
            [percentile(latencies, 99)],
            size=f"{len(latencies)} departures at {median(achieved):.0f}/s "
            f"(asked {latency_rate:g}/s)",
        ),
        Figure(
            "replication.catch_up",
            median(catch_ups),
            "events/s",
            None,
            ">= 4000",  # the 60,000 events in under 15 s, at any size measured
            catch_ups,
            size=f"{rounds} rounds of {catch_up} departures with the host down",
            note="from the host's restart (its start included) until it holds them all",
        ),
    ]


def _latency(
    origin: Any, table: HostTable, members: list[str], rate: float, seconds: float
) -> tuple[float, list[float]]:
    """Departures paced at `rate`/s for `seconds`; per departure, 2xx → row at the host (ms)."""
    acknowledged: dict[str, float] = {}
    seen: dict[str, float] = {}
    lock = threading.Lock()
    todo = members[: int(rate * seconds)]
    interval = WRITERS / rate
    stop_observing = threading.Event()

    def observe() -> None:
        while not stop_observing.is_set():
            with lock:
                awaited = [m for m in acknowledged if m not in seen]
            if awaited:
                found = table.arrived(awaited)
                now = time.perf_counter()  # after the query: never earlier than the row
                for member in found:
                    seen[member] = now
            time.sleep(0.005)

    def writer(n: int) -> None:
        rng = random.Random(n)
        next_at = time.perf_counter() + n * interval / WRITERS
        for member in todo[n::WRITERS]:
            time.sleep(max(0.0, next_at - time.perf_counter()))
            next_at += interval
            depart(origin, member, rng)
            with lock:
                acknowledged[member] = time.perf_counter()

    observer = threading.Thread(target=observe, daemon=True)
    observer.start()
    started = time.monotonic()
    in_parallel(writer, list(range(WRITERS)), WRITERS)
    achieved = len(todo) / (time.monotonic() - started)
    wait_until(lambda: all(m in seen for m in todo), 120, "every departure at the host")
    stop_observing.set()
    observer.join()
    # A row seen before the 2xx arrived counts as 0 ms (the observer raced the response).
    return achieved, [max(0.0, (seen[m] - acknowledged[m]) * 1000) for m in todo]
