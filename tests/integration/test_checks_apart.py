"""A backlog's checks in a process of their own (shared/messaging/checks_apart.py), on a real
keyed exchange: signed facts with sealed personal fields through a real nats-server.

- A host catching up with its checking process on applies every fact, none dead-lettered.
- The checking process reads the contract and the keys the service reads: it decides every
  message as the service's own checks do, the forged and the misrouted ones included. Killed, it
  costs nothing but its speed: the batch is checked in the service again, and the process is not
  restarted at once; stuck, it is killed after a bound rather than hold the receiver.
- A service killed outright does not leave its checking process behind.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import nats

from services.outflow.entrypoints.schemas import RecordDeparture, RegisterMember
from shared.contracts.envelope import O2H
from shared.messaging.checking import FactChecks
from shared.messaging.checks_apart import MIN_BATCH, ChecksApart
from shared.messaging.tally import APPLIED, DEAD, Outcome
from shared.messaging.topology import EVENTS_STREAM
from shared.security.live_trust import sealer_for, trust_registry
from tests.support.backends import NatsServer
from tests.support.factories import departure_body, member_body
from tests.support.harness import exchange_keys, running, settings_for, wait_until

ORIGIN, HOST = "371326", "310115"
BACKLOG = 3 * MIN_BATCH


def _departures(origin: Any, count: int, rng: random.Random) -> None:
    """Members registered and departed through the origin's application service."""
    app = origin.app.state.runtime.app
    for _ in range(count):
        person = RegisterMember(**member_body(rng, ORIGIN)).model_dump()
        member = app.register_member(**person, recorded_by="test")
        departure = RecordDeparture(**departure_body(HOST, rng)).model_dump()
        app.record_departure(member, **departure, recorded_by="test")


async def _stream(url: str) -> list[tuple[bytes, str]]:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(EVENTS_STREAM)
        got = [await js.get_msg(EVENTS_STREAM, seq) for seq in range(1, info.state.last_seq + 1)]
        return [(m.data or b"", m.subject or "") for m in got]
    finally:
        await nc.close()


def _hostile(genuine: list[tuple[bytes, str]]) -> list[tuple[bytes, str | None]]:
    """Copies a peer that lies could send: a forged field, another member's subject, no JSON."""
    raw, subject = genuine[0]
    forged = json.loads(raw)
    forged["liangdiseq"] = str(int(forged["liangdiseq"]) + 1)
    return [
        (json.dumps(forged).encode(), subject),
        (raw, subject.rpartition(".")[0] + ".someone-else"),
        (b"\xff not json", subject),
    ]


def _same(process: list[Any], here: list[Any]) -> None:
    assert len(process) == len(here)
    for a, b in zip(process, here, strict=True):
        if isinstance(b, Outcome):
            assert isinstance(a, Outcome) and (a.result, a.reason) == (b.result, b.reason)
        else:
            envelope, event, unreadable = a
            assert dataclasses.asdict(envelope) == dataclasses.asdict(b[0])
            assert event == b[1] and unreadable == b[2]


def test_a_backlog_is_checked_apart_and_every_fact_applies(
    tmp_path: Path, nats_server: NatsServer
) -> None:
    keys = exchange_keys({ORIGIN: "origin", HOST: "host"})
    url = nats_server.url
    host_settings = settings_for("inflow", f"sqlite:///{tmp_path}/h.db", url, HOST, **keys[HOST])
    origin_settings = settings_for(
        "outflow", f"sqlite:///{tmp_path}/o.db", url, ORIGIN, **keys[ORIGIN]
    )
    with ExitStack() as stack:
        origin = stack.enter_context(running("outflow", origin_settings))
        _departures(origin, BACKLOG, random.Random(5))  # the host is down meanwhile
        wait_until(lambda: len(asyncio.run(_stream(url))) >= BACKLOG, 30, message="published")
        host = stack.enter_context(running("inflow", host_settings))
        processor = host.app.state.runtime.processor
        wait_until(lambda: processor.counts[APPLIED] >= BACKLOG, 60, message="the backlog applied")
        assert processor.counts[APPLIED] == BACKLOG and processor.counts.get(DEAD, 0) == 0
        assert processor.checks_apart.failures == 0
        shown = host.app.state.runtime.agent.status()["receiver"]["checks_apart"]
        assert shown["failures"] == 0 and shown["batches"] == processor.checks_apart.batches
        metrics = host.get("/metrics").text
        assert "liangdi_receiver_checking_process_failures_total" in metrics

    # The same messages, and a liar's, checked there and here: the same decisions.
    genuine = asyncio.run(_stream(url))
    messages = [*genuine, *_hostile(genuine)]
    here = FactChecks.alone(
        HOST, O2H, trust_registry(host_settings), sealer_for(host_settings)
    ).check_all(messages)
    assert sum(isinstance(c, Outcome) for c in here) == 3  # the three lies, refused
    checks = ChecksApart(host_settings, O2H)
    try:
        wait_until(lambda: checks.takes(messages), 60, message="the checking process up")
        assert checks.pid not in (None, os.getpid())
        _same(asyncio.run(checks.check_all(messages)), here)

        os.kill(checks.pid, signal.SIGKILL)  # killed: the batch comes back unchecked
        assert asyncio.run(checks.check_all(messages)) is None
        assert checks.failures == 1 and "BrokenProcessPool" in checks.last_failure
        assert not checks.takes(messages)  # not started again at once: checked here meanwhile
    finally:
        checks.close()

    # Stuck (stopped): it must not hold the receiver; it is killed, the batch checked here.
    checks = ChecksApart(host_settings, O2H)
    try:
        wait_until(lambda: checks.takes(messages), 60, message="the checking process up")
        stuck, checks.bound = checks.pid, 2.0
        os.kill(stuck, signal.SIGSTOP)
        assert asyncio.run(checks.check_all(messages)) is None
        assert checks.failures == 1 and "no answer in 2s" in checks.last_failure
        wait_until(lambda: not _alive(stuck), 10, message="the stuck process killed")
    finally:
        checks.close()


ORPHAN = textwrap.dedent(
    """
    import asyncio, sys, time
    from shared.config import InflowSettings
    from shared.messaging.checks_apart import MIN_BATCH, ChecksApart

    checks = ChecksApart(InflowSettings(place="310115"), "o2h")
    batch = [(b"{}", None)] * MIN_BATCH
    while not checks.takes(batch):
        time.sleep(0.05)
    print(checks.pid, flush=True)
    time.sleep(600)
    """
)


def test_the_checking_process_goes_with_its_service() -> None:
    service = subprocess.Popen(
        [sys.executable, "-c", ORPHAN],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
        env=os.environ | {"LIANGDI_LOG_LEVEL": "WARNING"},
    )
    try:
        assert service.stdout is not None
        worker = int(service.stdout.readline())
        assert Path(f"/proc/{worker}").exists()
    finally:
        service.kill()  # SIGKILL: nothing of the service runs to stop its pool
        service.wait()
    wait_until(lambda: not _alive(worker), 10, message="the checking process gone")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
