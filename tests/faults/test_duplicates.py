"""Scenario 4: duplicates and redeliveries. Every message of the stream re-published (new
`Nats-Msg-Id`, so JetStream lets each copy in) while both places write and again afterwards,
and deliveries taken from each place's consumer and never acknowledged (redelivered after the
ack wait), as by a receiver that died between receiving and acknowledging."""

from __future__ import annotations

import time

import pytest

from tests.faults import wire
from tests.faults.faults import Background
from tests.faults.places import HOST, ORIGIN
from tests.faults.scenario import Run

pytestmark = pytest.mark.faults


def test_everything_republished_and_acks_withheld(exchange_of, nats_server, tmp_path) -> None:
    url = nats_server.url
    ex = exchange_of(url).start()
    run = Run("duplicates", ex, tmp_path)
    members = run.workload.enrol(run.profile.members)
    run.converge(60)
    writer = Background(run.workload.run, members, run.profile.rounds)
    withheld = 0
    for n in range(run.profile.repeats):
        time.sleep(run.rng.uniform(0.2, 1.0))
        withheld += wire.withhold_acks(url, "inflow", HOST, hold=0.5)
        withheld += wire.withhold_acks(url, "outflow", ORIGIN, hold=0.5)
        copies = wire.read(url)
        wire.republish(url, copies, f"dup{n}", run.rng)
    writer.join()
    run.workload.evaluate_at_host(members)
    copies = wire.read(url)
    republished = wire.republish(url, copies, "dup-final", run.rng)
    print(f"withheld {withheld} deliveries, re-published {republished} messages at the end")
    assert republished > 0
    run.converge()
    run.finish()
    run.assert_clean()
