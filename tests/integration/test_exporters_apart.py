"""The relay and anti-entropy each read the log with an exporter of their own.

An exporter keeps the aggregates it reads and moves them on, in place, with each event, so it
serves one thread at a time. It was shared by the relay's thread and anti-entropy's, and each
aggregate was deep-copied for every event (5 % of an origin's relay). Each now has its own, and
both make the same facts of the same log.
"""

from __future__ import annotations

import random
from typing import Any

from tests.support.backends import NatsServer
from tests.support.places import real_places, register_and_depart

HOST = "310115"


def _facts(export: Any, events: list[Any]) -> list[list[Any]]:
    return [[(o.to_place, o.member_id, o.event) for o in export(event)] for event in events]


def test_the_relay_and_anti_entropy_export_apart_and_alike(
    postgres_url: str, pg_database_url: str, nats_server: NatsServer
) -> None:
    rng = random.Random(5)
    places = {"out": ("outflow", "371326")}
    with real_places(postgres_url, pg_database_url, nats_server.url, **places) as clients:
        for _ in range(12):
            register_and_depart(clients["out"], HOST, rng)
        runtime = clients["out"].app.state.runtime
        relay, index = runtime.relay, runtime.antientropy.index
        assert index.exporter is not None and index.exporter is not relay.exporter
        app = runtime.app
        notifications = app.recorder.select_notifications(start=0, limit=1000)
        events = [app.mapper.to_domain_event(n) for n in notifications]
        by_relay = _facts(relay.exporter, events)
        assert sum(len(facts) for facts in by_relay) == 12  # a departure each
        assert _facts(index.facts_of, events) == by_relay
