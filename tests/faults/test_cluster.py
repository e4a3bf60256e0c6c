"""Scenario 7: a three-node NATS JetStream cluster (streams with 3 replicas), one node SIGKILLed
during traffic, the leader of the events stream first: the exchange goes on without loss."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults import wire
from tests.faults.cluster import NatsCluster
from tests.faults.faults import Background
from tests.faults.scenario import Run
from tests.support.harness import wait_until

pytestmark = [pytest.mark.faults, pytest.mark.nats]


@pytest.fixture
def nats_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[NatsCluster]:
    monkeypatch.setenv("LIANGDI_NATS_REPLICAS", "3")  # the streams the fixture creates
    cluster = NatsCluster(tmp_path / "cluster").start()
    yield cluster
    cluster.stop()


def test_cluster_node_killed_during_traffic(exchange_of, nats_cluster, tmp_path) -> None:
    url = nats_cluster.url
    ex = exchange_of(url, LIANGDI_NATS_REPLICAS="3").start()
    run = Run("nats_cluster", ex, tmp_path)
    members = run.workload.enrol(run.profile.members)
    run.converge(60)
    assert wire.replicas(url) == 3
    writer = Background(run.workload.run, members, run.profile.rounds)
    killed = []
    for n in range(run.profile.repeats):
        time.sleep(run.rng.uniform(0.5, 1.5))
        leader = wait_until(lambda: wire.stream_leader(url), 30, message="a stream leader")
        node = next(x for x in nats_cluster.nodes if x.name == leader)
        node.kill()  # the leader: its Raft group must elect another and carry on
        killed.append(leader)
        time.sleep(run.profile.outage if n == 0 else run.rng.uniform(0.5, 2.0))
        node.start()
    writer.join()
    print(f"killed stream leaders: {killed}")
    run.workload.evaluate_at_host(members)
    run.converge()
    run.finish()
    run.assert_clean()
