"""The relay in a busy process (real PostgreSQL and nats-server): the origin's link shares its
event loop and its default thread pool with the offices' requests.

- Its steps run on a thread of their own: with every thread of the default pool held by
  requests, a round still publishes (before, it queued behind them).
- A round's sends give the loop's other tasks a few turns, not one turn per message: each such
  turn waited behind every HTTP request in the loop, and a departure reached the host seconds
  late under the offices' load (docs/performance.md, "Sixth pass").
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import nats

from shared.messaging.topology import EVENTS_STREAM, ensure_topology
from tests.integration.test_relay_member_streams import HOST, NotesApp, relay_for
from tests.support.backends import NatsServer
from tests.sync.kit import open_app


async def _noted(url: str, nats_server: NatsServer, count: int) -> tuple[Any, Any, Any, Any]:
    """`count` facts stored, a relay for them, and a connection to the test's nats-server."""
    app = open_app(NotesApp, url)
    for n in range(count):
        app.note(f"m{n}", HOST, f"text {n}")
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await ensure_topology(js)
    return app, relay_for(app, url), nc, js


async def test_a_round_publishes_while_the_default_pool_is_held(
    pg_database_url: str, nats_server: NatsServer
) -> None:
    app, relay, nc, js = await _noted(pg_database_url, nats_server, 20)
    release = threading.Event()
    loop = asyncio.get_running_loop()
    # Every thread of the loop's default pool busy, as under the offices' requests.
    workers = loop._default_executor._max_workers if loop._default_executor else 32  # type: ignore[attr-defined]
    held = [asyncio.to_thread(release.wait, 60) for _ in range(max(workers, 32))]
    holders = [asyncio.ensure_future(h) for h in held]
    try:
        await asyncio.sleep(0.2)  # the holders have taken their threads
        sent = await asyncio.wait_for(relay.run_once(js), timeout=20)
        assert sent == 20
        assert (await js.stream_info(EVENTS_STREAM)).state.messages == 20
        assert not any(h.done() for h in holders), "the pool was not held during the round"
    finally:
        release.set()
        await asyncio.gather(*holders)
        relay.lane.close()
        await nc.close()
        app.close()


async def test_a_round_of_sends_gives_the_loop_a_few_turns_not_one_per_message(
    pg_database_url: str, nats_server: NatsServer
) -> None:
    app, relay, nc, js = await _noted(pg_database_url, nats_server, 300)
    _, wire, _ = relay._round(relay.position)
    assert len(wire) == 300
    turns = 0
    sending = True

    async def another_task() -> None:  # an HTTP request's coroutine, as far as the loop cares
        nonlocal turns
        while sending:
            turns += 1
            await asyncio.sleep(0)

    other = asyncio.ensure_future(another_task())
    await asyncio.sleep(0)
    futures: list[asyncio.Future[Any]] = []
    try:
        turns = 0
        await relay._send(js, wire, futures)
        during = turns
        await asyncio.gather(*futures)
    finally:
        sending = False
        await other
        relay.lane.close()
        await nc.close()
        app.close()
    assert len(futures) == 300
    # One bound per message (nats-py's `wait_stall`) gave it a turn per message: 300 here.
    assert during < 30, f"the other task ran {during} times while 300 messages were sent"
