"""Test helpers for the host's service: an origin county speaking NATS, and a running inflow.

`OriginWire` publishes correctly-formed o2h facts the way an origin's relay would (CloudEvents
envelope, per-member stream and sequence), and reads what the host sent back with a JetStream
subscription, or what it dead-lettered.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import nats
from fastapi.testclient import TestClient
from nats.js.api import DeliverPolicy

from shared.contracts import events as wire
from shared.contracts.envelope import O2H, Envelope, new_envelope, parse_envelope
from shared.contracts.registry import WireEvent
from shared.messaging.topology import deadletter_subject, ensure_topology, event_subject
from shared.validation import make_resident_id
from tests.support.harness import auth, running, settings_for, wait_until

HOST = "310115"
ORIGIN = "371326"
OTHER_ORIGIN = "371324"


async def _publish(url: str, subject: str, data: bytes, msg_id: str) -> None:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        await ensure_topology(js)
        await js.publish(subject, data, headers={"Nats-Msg-Id": msg_id})
    finally:
        await nc.close()


async def read_subject(url: str, subject: str, stream: str) -> list[Any]:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        await ensure_topology(js)
        sub = await js.subscribe(
            subject, stream=stream, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
        )
        out = []
        while True:
            try:
                out.append(await sub.next_msg(timeout=0.5))
            except TimeoutError:
                break
        await sub.unsubscribe()
        return [(m.data, dict(m.headers or {})) for m in out]
    finally:
        await nc.close()


class OriginWire:
    """One origin county's side of the link, for tests."""

    def __init__(self, nats_url: str, origin: str = ORIGIN, host: str = HOST):
        self.url, self.origin, self.host = nats_url, origin, host
        self._seq: dict[str, int] = {}
        self._ids = itertools.count(1)

    def send(self, event: WireEvent, *, member_id: str, to: str | None = None) -> None:
        """Publishes `event` as the next fact of the origin's aggregate `member_id`."""
        seq = self._seq.get(member_id, 0) + 1
        self._seq[member_id] = seq
        to_place = to or self.host
        envelope = new_envelope(
            event_id=f"{self.origin}.test.{uuid.uuid4().hex}.{next(self._ids)}",
            service="outflow",
            event=event,
            member_id=member_id,
            from_place=self.origin,
            to_place=to_place,
            direction=O2H,
            stream=member_id,
            seq=seq,
            prevseq=seq - 1,
        )
        subject = event_subject(O2H, self.origin, to_place, member_id)
        asyncio.run(_publish(self.url, subject, envelope.to_bytes(), envelope.id))

    def depart(self, rng: random.Random, **overrides: Any) -> str:
        member_id = overrides.pop("member_id", str(uuid.uuid4()))
        birth = date(rng.randint(1965, 2000), rng.randint(1, 12), rng.randint(1, 28))
        facts: dict[str, Any] = {
            "member_id": member_id,
            "origin_place": self.origin,
            "host_place": self.host,
            "name": rng.choice("王李张刘陈") + rng.choice("伟芳娜强磊"),
            "resident_id": make_resident_id(self.origin, birth, rng.randint(0, 999)),
            "sex": "male",
            "phone": f"139{rng.randint(0, 99_999_999):08d}",
            "origin_branch": "平邑镇第一村党支部",
            "employer": "张江软件园",
            "host_address": "上海市浦东新区某路1号",
            "reason": "务工",
            "expected_months": 12,
            "departed_on": date(2026, 3, 1),
            "certificate_no": f"{self.origin}-{rng.randint(1, 999_999):06d}",
        }
        facts.update(overrides)
        self.send(wire.MemberDeparted(**facts), member_id=member_id)
        return member_id

    def facts_back(self, host: str | None = None) -> list[Envelope]:
        """Everything the host sent to this origin, in stream order."""
        subject = f"liangdi.ev.h2o.{host or self.host}.{self.origin}.>"
        return [
            parse_envelope(data)
            for data, _ in asyncio.run(read_subject(self.url, subject, "LIANGDI_EVENTS"))
        ]

    def facts_of_type(self, name: str, host: str | None = None) -> list[dict[str, Any]]:
        # Any version: a fact's schema may have a newer version (shared/contracts/events.py).
        prefix = f"cn.liangdi.{name}.v"
        return [e.data for e in self.facts_back(host) if e.type.startswith(prefix)]


def dead_letters(nats_url: str, place: str = HOST) -> list[str]:
    """The reasons the host's receiver gave for what it refused."""
    messages = asyncio.run(
        read_subject(nats_url, deadletter_subject("inflow", place), "LIANGDI_DEADLETTER")
    )
    return [headers.get("Liangdi-Reason", "") for _, headers in messages]


W = auth("host_operator", HOST)
AUDITOR = auth("auditor")


@contextmanager
def inflow(pg_database_url: str, nats_url: str, **overrides: Any) -> Iterator[TestClient]:
    settings = settings_for("inflow", pg_database_url, nats_url, HOST, **overrides)
    with running("inflow", settings) as client:
        yield client


def expect(client: TestClient, origin_member_id: str) -> dict[str, Any]:
    """Waits until the departure has arrived and returns the host's record of it."""

    def arrived() -> dict[str, Any] | None:
        response = client.get(f"/api/v1/members/{origin_member_id}", headers=W)
        return response.json() if response.status_code == 200 else None

    return wait_until(arrived, message=f"expected arrival of {origin_member_id}")


def report(client: TestClient, record: dict[str, Any], on: str = "2026-03-05", **extra: Any):  # type: ignore[no-untyped-def]
    body = {"certificate_no": record["certificate_no"], "reported_on": on, **extra}
    response = client.post(f"/api/v1/members/{record['member_id']}/report", json=body, headers=W)
    assert response.status_code == 204, response.text
    return record["member_id"]


def error_code(response: Any) -> str:
    return response.json()["error"]["code"]


def no_plaintext(payload: Any, *secrets: str) -> None:
    text = json.dumps(payload, ensure_ascii=False)
    for secret in secrets:
        assert secret not in text, f"plaintext {secret[:4]}… leaked"
