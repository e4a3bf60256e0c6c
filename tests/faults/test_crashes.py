"""Scenario 2: each place SIGKILLed mid-batch. The origin right after a burst of 2xx (stored, not
yet published), the host and the sync service mid-traffic, and the host between receiving and
acknowledging: down while the origin departs members and then evaluates each of them, started
and killed while the messages are delivered but not acknowledged, started again (issue 9, §2)."""

from __future__ import annotations

import time

import pytest

from tests.faults.faults import Background
from tests.faults.history import OK
from tests.faults.observe import host_saw
from tests.faults.scenario import Run

pytestmark = pytest.mark.faults


def burst_of_acks(run: Run, side: str, count: int, timeout: float = 30.0) -> None:
    """Returns right after `count` more writes at `side` were answered 2xx."""

    def acked() -> int:
        return sum(1 for op in run.history.ops if op.side == side and op.status == OK)

    target, deadline = acked() + count, time.monotonic() + timeout
    while acked() < target and time.monotonic() < deadline:
        time.sleep(0.01)


def test_each_place_sigkilled_mid_batch(exchange_of, nats_server, tmp_path) -> None:
    ex = exchange_of(nats_server.url).start()
    run = Run("place_sigkill", ex, tmp_path)
    members = run.workload.enrol(run.profile.members)
    run.converge(60)
    writer = Background(run.workload.run, members, run.profile.rounds)
    victims = ["origin", "host", "sync"] + ["origin", "host"] * (run.profile.repeats - 1)
    run.rng.shuffle(victims)
    for victim in victims:
        burst_of_acks(run, "host" if victim == "host" else "origin", run.rng.randint(5, 15))
        ex.kill(victim)  # right after the 2xx: facts stored, some not yet published or acked
        time.sleep(run.rng.uniform(0.1, 1.0))
        ex.start(victim)
    writer.join()
    run.workload.evaluate_at_host(members)
    run.converge()
    run.finish()
    run.assert_clean()


def test_host_killed_between_receiving_and_acknowledging(exchange_of, nats_server, tmp_path):
    ex = exchange_of(nats_server.url).start()
    run = Run("host_kill_unacked", ex, tmp_path)
    ex.places["host"].stop()
    count = 150 if run.profile.members > 20 else 30
    members = run.workload.enrol(count)
    run.workload.run(members, 1, sides=("origin",))  # per member: a correction, an evaluation
    ex.places["host"].start(wait=False)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not host_saw(ex.host_db):
        time.sleep(0.02)
    ex.kill("host")  # mid-batch: the rest of the fetched batch is delivered but not acked
    applied = sum(len(facts) for facts in host_saw(ex.host_db).values())
    print(f"host killed after applying {applied} facts of {len(members) * 3}")
    ex.start("host")
    run.converge()
    run.finish()
    run.assert_clean()
