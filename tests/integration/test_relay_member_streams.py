"""The relay's per-member streams against real PostgreSQL and nats-server: one chain per member
and destination across all of the member's aggregates; a relay that dies after publishing and
before recording re-publishes byte-identical messages (same prevseq) and counts them once."""

from __future__ import annotations

import asyncio
from typing import Any

import nats
from eventsourcing.domain import Aggregate, event

from shared.contracts.envelope import O2H, parse_envelope
from shared.contracts.events import MemberDetailsCorrected
from shared.eventsourced import LiangdiApplication
from shared.eventstore import sqlalchemy_engine
from shared.messaging.relay import Outbound, Relay
from shared.messaging.topology import EVENTS_STREAM, ensure_topology, event_subject
from shared.positions import PositionStore
from tests.support.backends import NatsServer
from tests.sync.kit import open_app

ORIGIN, HOST, OTHER = "371326", "310115", "310112"


class Note(Aggregate):
    """A fact about a member held in an aggregate of its own (as evaluations and payouts are)."""

    @event("Noted")
    def __init__(self, member: str, to_place: str, text: str) -> None:
        self.member, self.to_place, self.text = member, to_place, text


class NotesApp(LiangdiApplication):
    def note(self, member: str, to_place: str, text: str) -> None:
        self.save(Note(member, to_place, text))


def export(domain_event: Any) -> list[Outbound]:
    fact = MemberDetailsCorrected(
        member_id=domain_event.member,
        origin_place=ORIGIN,
        host_place=domain_event.to_place,
        employer=domain_event.text,
    )
    return [
        Outbound(
            to_place=domain_event.to_place, direction=O2H, event=fact, member_id=fact.member_id
        )
    ]


def relay_for(app: NotesApp, url: str) -> Relay:
    return Relay(
        app=app,
        exporter=export,
        positions=PositionStore(sqlalchemy_engine(url)),
        place=ORIGIN,
        service="outflow",
        signer=None,
    )


async def stored(js: Any) -> list[Any]:
    """Every message on the events stream, in stream order, as envelopes."""
    out = []
    info = await js.stream_info(EVENTS_STREAM)
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        out.append(parse_envelope((await js.get_msg(EVENTS_STREAM, seq)).data))
    return out


async def test_member_chains_survive_a_relay_crash_before_recording(
    pg_database_url: str, nats_server: NatsServer
) -> None:
    app = open_app(NotesApp, pg_database_url)
    for member, to_place, text in [
        ("a", HOST, "a1"),
        ("b", HOST, "b1"),
        ("a", HOST, "a2"),  # another aggregate of member a: chained to a1
        ("a", OTHER, "a-other"),  # another destination: its own chain
        ("a", HOST, "a3"),
    ]:
        await asyncio.to_thread(app.note, member, to_place, text)
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await ensure_topology(js)
    try:
        relay = relay_for(app, pg_database_url)
        preview, _ = await asyncio.to_thread(relay.envelopes, relay.position)
        chain = [(e.to_place, e.stream, e.seq, e.prevseq) for e in preview]
        assert chain == [
            (HOST, "a", 1, 0),
            (HOST, "b", 2, 0),
            (HOST, "a", 3, 1),
            (OTHER, "a", 4, 0),
            (HOST, "a", 5, 3),
        ]
        # The relay published the batch and died before recording its position.
        for envelope in preview:
            subject = event_subject(O2H, ORIGIN, envelope.to_place, envelope.subject)
            await js.publish(subject, envelope.to_bytes(), headers={"Nats-Msg-Id": envelope.id})
        restarted = relay_for(app, pg_database_url)
        assert restarted.position == 0 and restarted.published == 0
        assert await restarted.run_once(js) == 5
        assert [e.to_bytes() for e in await stored(js)] == [e.to_bytes() for e in preview]
        assert restarted.per_destination == {HOST: 4, OTHER: 1}
        # Later facts continue each chain from the recorded routes, also after a restart.
        await asyncio.to_thread(app.note, "b", HOST, "b2")
        again = relay_for(app, pg_database_url)
        assert again.per_destination == {HOST: 4, OTHER: 1}
        assert await again.run_once(js) == 1
        latest = (await stored(js))[-1]
        assert (latest.stream, latest.seq, latest.prevseq) == ("b", 6, 2)
        assert again.per_destination == {HOST: 5, OTHER: 1} and again.published == 6
        # An operator sets the position back: the routes are derived again as they stood.
        await asyncio.to_thread(again.positions.set, again.name, 2)
        await asyncio.to_thread(again.reload)
        replay, _ = await asyncio.to_thread(again.envelopes, again.position)
        assert [(e.seq, e.prevseq) for e in replay] == [(3, 1), (4, 0), (5, 3), (6, 2)]
    finally:
        await nc.close()
        app.close()


async def test_a_stored_value_the_contract_refuses_is_recorded_unsent_not_blocking(
    pg_database_url: str, nats_server: NatsServer
) -> None:
    """A fact stored before the contract bounded its values (here a NUL) can never be sent as it
    is: it is recorded as unsent with the rule it breaks, and every later fact still flows."""
    app = open_app(NotesApp, pg_database_url)
    for member, text in [("a", "a1"), ("a", "坏\x00值"), ("b", "b1"), ("a", "a3")]:
        await asyncio.to_thread(app.note, member, HOST, text)
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await ensure_topology(js)
    try:
        relay = relay_for(app, pg_database_url)
        assert await relay.run_once(js) == 3
        assert [(e.stream, e.seq, e.prevseq) for e in await stored(js)] == [
            ("a", 1, 0),
            ("b", 3, 0),
            ("a", 4, 1),  # chained past the fact that was never sent
        ]
        assert relay.status()["unsent"] == 1 and relay.position == 4
        total, latest = relay.links.load_unsent(relay.name)
        assert total == 1 and latest[0]["notification_id"] == 2
        assert "employer" in latest[0]["error"] and "\x00" not in latest[0]["error"]
        assert relay_for(app, pg_database_url).status()["unsent"] == 1  # survives a restart
    finally:
        await nc.close()
        app.close()


async def test_a_store_from_before_member_chains_starts_them_afresh(
    pg_database_url: str, nats_server: NatsServer
) -> None:
    """An upgraded store: its relay had a position but no routes, and its peers tracked facts
    per aggregate. The first new fact of each member starts a chain (prevseq 0), so it applies
    at once instead of waiting for a predecessor the receiver knows under another key."""
    app = open_app(NotesApp, pg_database_url)
    for text in ("old-1", "old-2"):
        await asyncio.to_thread(app.note, "a", HOST, text)
    old = relay_for(app, pg_database_url)
    await asyncio.to_thread(old.positions.set, old.name, 2)  # published by the old relay
    await asyncio.to_thread(app.note, "a", HOST, "new")
    upgraded = relay_for(app, pg_database_url)
    fresh, _ = await asyncio.to_thread(upgraded.envelopes, upgraded.position)
    assert [(e.stream, e.seq, e.prevseq) for e in fresh] == [("a", 3, 0)]
    app.close()
