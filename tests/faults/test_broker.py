"""Scenario 1: the broker SIGKILLed and restarted again and again, and down for a while, while
both places keep writing. Nothing acknowledged may be lost, doubled or reordered."""

from __future__ import annotations

import time

import pytest

from tests.faults.faults import Background, kill_nats
from tests.faults.scenario import Run

pytestmark = pytest.mark.faults


def test_nats_killed_repeatedly_and_down_while_both_sides_write(
    exchange_of, nats_server, tmp_path
) -> None:
    ex = exchange_of(nats_server.url).start()
    run = Run("nats_sigkill", ex, tmp_path)
    members = run.workload.enrol(run.profile.members)
    run.converge(60)  # every departure at the host, so the host can write about its members
    writer = Background(run.workload.run, members, run.profile.rounds)
    for _ in range(run.profile.repeats + 1):  # repeatedly: at least twice
        time.sleep(run.rng.uniform(0.3, 1.5))
        kill_nats(nats_server)
        time.sleep(run.rng.uniform(0.1, 1.0))
        nats_server.start()
    time.sleep(run.rng.uniform(0.3, 1.0))
    kill_nats(nats_server)
    time.sleep(run.profile.outage)  # both places keep accepting writes meanwhile
    nats_server.start()
    writer.join()
    run.workload.evaluate_at_host(members)
    run.converge()
    run.finish()
    run.assert_clean()
