"""Scenario 5: reordering and gaps across a member's aggregates. While the receiving place is
down, its messages are taken out of the stream and put back shuffled, some of them only later
(a gap the receiver must wait on, not dead-letter), in both directions."""

from __future__ import annotations

import time

import pytest

from tests.faults import wire
from tests.faults.history import OK
from tests.faults.places import HOST, ORIGIN
from tests.faults.scenario import Run

pytestmark = pytest.mark.faults


def published(url: str, prefix: str, at_least: int, timeout: float = 30.0) -> list[wire.Message]:
    """The stream's messages under `prefix`, once the sender's relay has published them all."""
    deadline = time.monotonic() + timeout
    while True:
        messages = wire.read(url, prefix)
        if len(messages) >= at_least or time.monotonic() > deadline:
            return messages
        time.sleep(0.3)


def shuffle_back(run: Run, url: str, prefix: str, receiver: str) -> int:
    """Purges the direction's messages and re-publishes them shuffled; a fifth of them is held
    back until the receiver has been running for a while."""
    direction = prefix.split(".")[2]
    acked = sum(1 for op in run.history.ops if op.direction == direction and op.status == OK)
    messages = published(url, prefix, acked)
    wire.purge(url, prefix + ">")
    late = run.rng.sample(messages, len(messages) // 5)
    early = [m for m in messages if m not in late]
    wire.republish(url, early, "shuffled", run.rng)
    run.ex.start(receiver)
    time.sleep(run.rng.uniform(1.0, 2.5))
    wire.republish(url, late, "late", run.rng)
    return len(messages)


def test_facts_shuffled_and_late_across_a_members_aggregates(
    exchange_of, nats_server, tmp_path
) -> None:
    url = nats_server.url
    ex = exchange_of(url).start()
    run = Run("reorder", ex, tmp_path)
    ex.places["host"].stop()
    members = run.workload.enrol(run.profile.members)
    run.workload.run(members, run.profile.rounds, sides=("origin",))
    moved = shuffle_back(run, url, f"liangdi.ev.o2h.{ORIGIN}.{HOST}.", "host")
    run.converge(60)
    ex.places["origin"].stop()
    run.workload.run(members, run.profile.rounds, sides=("host",))
    run.workload.evaluate_at_host(members)
    moved += shuffle_back(run, url, f"liangdi.ev.h2o.{HOST}.{ORIGIN}.", "origin")
    print(f"re-published {moved} messages out of order")
    run.converge()
    run.finish()
    run.assert_clean()
