"""Faults under load, against real PostgreSQL and a real nats-server: the broker restarting
mid-stream, and the relay's leader dying with a standby taking over."""

from __future__ import annotations

import asyncio

import psycopg

from shared.messaging.leader import Leadership
from tests.sync.kit import HOST, Receiver, Sender, eventually, under_traffic


async def test_nats_restart_mid_stream_loses_nothing(schema_url, nats_server) -> None:
    sender = Sender(schema_url("o"), nats_server.url)
    receiver = Receiver(schema_url("h"), nats_server.url, watchdog_after=2.0)
    async with under_traffic(sender, receiver, ledgers=20, rounds=15, flowing=60) as (ids, writer):
        await asyncio.to_thread(nats_server.stop)
        await asyncio.sleep(2.0)  # the origin keeps accepting writes meanwhile
        await asyncio.to_thread(nats_server.start)
        await writer
        expected = list(range(1, 16))
        await eventually(
            lambda: all(receiver.app.mirror(str(i)) == expected for i in ids),
            timeout=60,
            message="every note applied once, in order, after the restart",
        )
        assert receiver.processor.counts["applied"] == 20 * 15
        # The restart really cut the link: the clients reconnected or saw errors (which of the two
        # depends on timing, so either counts).
        reconnects = sum(
            agent.nc.stats["reconnects"]
            for agent in (sender.agent, receiver.agent)
            if agent.nc is not None
        )
        assert reconnects >= 1 or sender.relay.errors >= 1 or receiver.agent.receiver_errors >= 1


def test_only_one_leader_per_store(schema_url) -> None:
    url = schema_url("o")
    first, second = Leadership(url, "relay:outflow:371326"), Leadership(url, "relay:outflow:371326")
    other_store = Leadership(schema_url("x"), "relay:outflow:371326")
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        assert other_store.try_acquire()  # another schema is another store: its own lock
        assert first.confirm()
        first.release()
        assert second.try_acquire()
        assert not first.try_acquire()
    finally:
        for leadership in (first, second, other_store):
            leadership.release()


def test_a_link_stopped_while_taking_the_lead_leaves_the_lock_free(schema_url, monkeypatch) -> None:
    """The link stops (release) while its attempt to lead runs in its thread: the attempt must
    not keep the lock, or the next instance would stand by until this process exits."""
    url = schema_url("o")
    stopping, next_instance = Leadership(url, "relay:outflow:371326"), None
    connect = psycopg.connect

    def connect_then_stop(*args, **kwargs):
        conn = connect(*args, **kwargs)
        stopping.release()  # what PlaceAgent.stop does meanwhile
        return conn

    monkeypatch.setattr(psycopg, "connect", connect_then_stop)
    try:
        assert not stopping.try_acquire() and not stopping.held
        monkeypatch.setattr(psycopg, "connect", connect)
        next_instance = Leadership(url, "relay:outflow:371326")
        assert next_instance.try_acquire()  # the lock is free at once
        assert stopping.try_acquire() is False  # and an attempt after the release works as usual
    finally:
        stopping.release()
        if next_instance is not None:
            next_instance.release()


async def test_standby_relay_takes_over_without_doubles(schema_url, nats_server) -> None:
    url = schema_url("o")
    leader, standby = Sender(url, nats_server.url), Sender(url, nats_server.url)
    receiver = Receiver(schema_url("h"), nats_server.url)
    try:
        await leader.agent.start()
        await eventually(lambda: leader.agent.role == "leader", message="first leader")
        await standby.agent.start()
        await receiver.agent.start()
        ids = [await asyncio.to_thread(leader.app.open_and_note, HOST, 5) for _ in range(30)]
        await eventually(lambda: receiver.processor.counts["applied"] >= 60, message="flowing")
        assert standby.agent.role == "standby" and standby.relay.published == 0
        # The leader dies without a word: its tasks stop and its database session goes away.
        for task in leader.agent._tasks:
            task.cancel()
        await asyncio.to_thread(leader.leadership.release)
        # Writes keep arriving (at the standby: both serve the same store).
        for ledger_id in ids:
            await asyncio.to_thread(standby.app.note, ledger_id, 6)
        await eventually(lambda: standby.agent.role == "leader", message="standby takes over")
        expected = list(range(1, 7))
        await eventually(
            lambda: all(receiver.app.mirror(str(i)) == expected for i in ids),
            message="all notes applied after the failover",
        )
        assert standby.relay.published > 0
        assert receiver.processor.counts["applied"] == 30 * 6
    finally:
        for sender in (leader, standby):
            await sender.agent.stop()
            sender.close()
        await receiver.agent.stop()
        receiver.close()
