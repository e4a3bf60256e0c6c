"""A stand-in for a host district on the wire: publishes correctly formed h2o envelopes to NATS
and reads what the origin published (the inflow service is another engineer's work)."""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from typing import Any

import nats

from shared.contracts.envelope import H2O, O2H, Envelope, new_envelope, parse_envelope
from shared.contracts.registry import WireEvent
from shared.messaging.topology import EVENTS_STREAM, ensure_topology, event_subject
from tests.outflow.conftest import HOST, ORIGIN

_ids = itertools.count(1)


class HostSide:
    def __init__(self, nats_url: str, place: str = HOST):
        self.url, self.place = nats_url, place
        self.seqs: dict[str, int] = {}

    def stream_for(self, member_id: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"test-host:{self.place}:{member_id}"))

    def send(self, event: WireEvent, member_id: str = "", stream: str | None = None) -> Envelope:
        """Publishes one fact; seq/prevseq follow on per stream like a real host's relay."""
        stream = stream or self.stream_for(member_id or str(uuid.uuid4()))
        prev = self.seqs.get(stream, 0)
        self.seqs[stream] = prev + 1
        envelope = new_envelope(
            event_id=f"{self.place}.test.{uuid.uuid4().hex}.{next(_ids)}",
            service="inflow",
            event=event,
            member_id=member_id or "unknown",
            from_place=self.place,
            to_place=ORIGIN,
            direction=H2O,
            stream=stream,
            seq=prev + 1,
            prevseq=prev,
        )
        asyncio.run(self._publish(envelope))
        return envelope

    async def _publish(self, envelope: Envelope) -> None:
        nc = await nats.connect(self.url)
        try:
            js = nc.jetstream(timeout=10)
            await ensure_topology(js)
            subject = event_subject(H2O, self.place, ORIGIN, envelope.subject)
            await js.publish(subject, envelope.to_bytes(), headers={"Nats-Msg-Id": envelope.id})
        finally:
            await nc.close()

    def received(self, member_id: str = "*") -> list[Envelope]:
        """Everything the origin has published to this host so far (o2h), in stream order."""
        return asyncio.run(self._read(event_subject(O2H, ORIGIN, self.place, member_id)))

    async def _read(self, subject: str) -> list[Envelope]:
        nc = await nats.connect(self.url)
        try:
            js = nc.jetstream(timeout=10)
            await ensure_topology(js)
            sub = await js.subscribe(subject, stream=EVENTS_STREAM, ordered_consumer=True)
            out: list[Envelope] = []
            while True:
                try:
                    msg = await sub.next_msg(timeout=1.0)
                except TimeoutError:
                    break
                out.append(parse_envelope(msg.data))
            await sub.unsubscribe()
            return out
        finally:
            await nc.close()

    def dead_letters(self) -> list[dict[str, Any]]:
        return asyncio.run(self._dead())

    async def _dead(self) -> list[dict[str, Any]]:
        nc = await nats.connect(self.url)
        try:
            js = nc.jetstream(timeout=10)
            sub = await js.subscribe(
                f"liangdi.dlq.outflow.{ORIGIN}", stream="LIANGDI_DEADLETTER", ordered_consumer=True
            )
            out = []
            while True:
                try:
                    msg = await sub.next_msg(timeout=1.0)
                except TimeoutError:
                    break
                out.append(
                    {
                        "reason": (msg.headers or {}).get("Liangdi-Reason", ""),
                        "data": json.loads(msg.data),
                    }
                )
            await sub.unsubscribe()
            return out
        finally:
            await nc.close()
