"""The leader's lock session terminated again and again mid-traffic: the link steps down and
leads again every time, and every fact still arrives once, in order.

A step-down ends the term's loops (relay, receiver, status, control). The loops must end even
when one of them does not take its cancellation: asyncio.wait_for (Python 3.11) returns a
result that completed at the moment it was cancelled, and nats-py turns some cancellations into
errors of its own, which a loop that outlives errors catches. A term whose loops never end
leaves the place standing by, with its lock free and nobody leading.
"""

from __future__ import annotations

import asyncio
import time

import psycopg

from shared.messaging.leader import Leadership
from tests.sync.kit import Receiver, Sender, eventually, under_traffic


def terminate(url: str, application_name: str) -> int:
    with psycopg.connect(url.split("?")[0], autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (application_name,),
        ).fetchall()
    return len(rows)


def task_stacks() -> str:
    lines = []
    for task in asyncio.all_tasks():
        frames = task.get_stack(limit=3)
        where = " <- ".join(f"{f.f_code.co_name}:{f.f_lineno}" for f in frames)
        lines.append(f"{task.get_name()}: {where}")
    return "\n".join(sorted(lines))


async def test_a_link_leads_again_after_every_termination(schema_url, nats_server) -> None:
    origin_url, host_url = schema_url("o"), schema_url("h")
    sender = Sender(origin_url, nats_server.url)
    receiver = Receiver(
        host_url, nats_server.url, leadership=Leadership(host_url, "receiver:inflow:310115")
    )
    agents = {"origin": (sender.agent, origin_url), "host": (receiver.agent, host_url)}
    async with under_traffic(sender, receiver, ledgers=10, rounds=40, flowing=20) as (ids, writer):
        cuts = 0
        for round_no in range(12):
            name = ("origin", "host")[round_no % 2]
            agent, url = agents[name]
            changes = agent.leadership.changes
            await asyncio.sleep(0.05 * (round_no % 5))  # at different moments of the loops
            cuts += await asyncio.to_thread(terminate, url, agent.leadership.application_name)
            deadline = time.monotonic() + 15
            while not (agent.role == "leader" and agent.leadership.changes > changes):
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"{name} did not lead again after round {round_no}:\n{task_stacks()}"
                    )
                await asyncio.sleep(0.05)
        assert cuts >= 12, "the lock sessions must really have been terminated"
        await writer
        expected = list(range(1, 41))
        await eventually(
            lambda: all(receiver.app.mirror(str(i)) == expected for i in ids),
            timeout=60,
            message="every note applied once, in order",
        )
