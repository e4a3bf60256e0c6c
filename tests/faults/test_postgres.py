"""Scenario 3: a place's PostgreSQL sessions terminated (`pg_terminate_backend`) mid-traffic, the
origin's (its relay leader's lock goes with its session), the host's and the sync service's."""

from __future__ import annotations

import time

import pytest

from tests.faults.faults import Background
from tests.faults.places import terminate_backends
from tests.faults.scenario import Run

pytestmark = pytest.mark.faults


def test_database_sessions_of_one_place_terminated_mid_traffic(
    exchange_of, nats_server, tmp_path
) -> None:
    ex = exchange_of(nats_server.url).start()
    run = Run("pg_terminate", ex, tmp_path)
    members = run.workload.enrol(run.profile.members)
    run.converge(60)
    writer = Background(run.workload.run, members, run.profile.rounds)
    victims = ["origin", "host", "sync"] * run.profile.repeats
    run.rng.shuffle(victims)
    cut = 0
    for victim in victims:
        time.sleep(run.rng.uniform(0.3, 1.2))
        pid = ex.pids(victim)
        assert pid is not None
        cut += terminate_backends(ex.base, pid)
    writer.join()
    print(f"terminated {cut} sessions")
    assert cut >= len(victims), "the scenario must really have cut sessions"
    run.workload.evaluate_at_host(members)
    run.converge()
    run.finish()
    run.assert_clean()
