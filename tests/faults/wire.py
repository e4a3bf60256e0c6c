"""A raw NATS client doing to the stream what a faulty network or broker would: copies of
every message (new `Nats-Msg-Id`, so JetStream's duplicate window lets them in), messages
delivered out of order or late, deliveries never acknowledged, forged and broken messages."""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass

import nats
from nats.aio.client import Client

from shared.messaging.topology import EVENTS_STREAM, receiver_durable


@dataclass(frozen=True)
class Message:
    subject: str
    data: bytes
    msg_id: str


async def _connect(url: str) -> Client:
    return await nats.connect(servers=url.split(","), connect_timeout=5, name="fault-suite")


async def _read(url: str, prefix: str) -> list[Message]:
    nc = await _connect(url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(EVENTS_STREAM)
        out = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            try:
                msg = await js.get_msg(EVENTS_STREAM, seq)
            except nats.js.errors.NotFoundError:
                continue  # purged or deleted
            if msg.subject.startswith(prefix):
                msg_id = (msg.headers or {}).get("Nats-Msg-Id", f"seq{seq}")
                out.append(Message(msg.subject, msg.data or b"", msg_id))
        return out
    finally:
        await nc.close()


def read(url: str, prefix: str = "liangdi.ev.") -> list[Message]:
    """Every message of the events stream under a subject prefix, in stream order."""
    return asyncio.run(_read(url, prefix))


async def _publish(url: str, messages: list[tuple[str, bytes, str]]) -> int:
    nc = await _connect(url)
    try:
        js = nc.jetstream()
        for subject, data, msg_id in messages:
            await js.publish(subject, data, headers={"Nats-Msg-Id": msg_id}, timeout=10)
        return len(messages)
    finally:
        await nc.close()


def republish(url: str, messages: list[Message], tag: str, rng: random.Random | None = None) -> int:
    """Publishes copies (shuffled when `rng` is given), each under a new message id."""
    copies = list(messages)
    if rng is not None:
        rng.shuffle(copies)
    return asyncio.run(_publish(url, [(m.subject, m.data, f"{m.msg_id}.{tag}") for m in copies]))


def publish_raw(url: str, items: list[tuple[str, bytes, str]]) -> int:
    return asyncio.run(_publish(url, items))


async def _purge(url: str, subject: str) -> None:
    nc = await _connect(url)
    try:
        await nc.jetstream().purge_stream(EVENTS_STREAM, subject=subject)
    finally:
        await nc.close()


def purge(url: str, subject: str) -> None:
    """Removes a subject's messages from the stream (they are re-published by the scenario)."""
    asyncio.run(_purge(url, subject))


async def _withhold(url: str, service: str, place: str, batch: int, hold: float) -> int:
    nc = await _connect(url)
    try:
        js = nc.jetstream()
        sub = await js.pull_subscribe_bind(receiver_durable(service, place), EVENTS_STREAM)
        taken = 0
        deadline = asyncio.get_running_loop().time() + hold
        while asyncio.get_running_loop().time() < deadline:
            with contextlib.suppress(nats.errors.TimeoutError):
                taken += len(await sub.fetch(batch, timeout=0.5))
        return taken  # never acknowledged: JetStream redelivers them after the ack wait
    finally:
        await nc.close()


def withhold_acks(url: str, service: str, place: str, batch: int = 50, hold: float = 2.0) -> int:
    """Takes deliveries from a place's durable consumer for `hold` seconds and never
    acknowledges them, as a receiver that crashed between receiving and acknowledging."""
    return asyncio.run(_withhold(url, service, place, batch, hold))


async def _pending(url: str, durables: list[str]) -> int:
    nc = await _connect(url)
    try:
        js = nc.jetstream()
        total = 0
        for durable in durables:
            try:
                info = await js.consumer_info(EVENTS_STREAM, durable)
            except nats.js.errors.NotFoundError:
                continue
            total += (info.num_pending or 0) + (info.num_ack_pending or 0)
        return total
    finally:
        await nc.close()


def pending(url: str, durables: list[str]) -> int:
    """Messages the receivers have not settled yet (undelivered, or delivered and unacked)."""
    try:
        return asyncio.run(asyncio.wait_for(_pending(url, durables), 10))
    except Exception:  # the broker is restarting: not settled
        return -1


async def _stream_leader(url: str) -> str:
    nc = await _connect(url)
    try:
        info = await nc.jetstream().stream_info(EVENTS_STREAM)
        return info.cluster.leader if info.cluster and info.cluster.leader else ""
    finally:
        await nc.close()


def stream_leader(url: str) -> str:
    """The cluster node leading the events stream's Raft group ("" when there is none)."""
    try:
        return asyncio.run(asyncio.wait_for(_stream_leader(url), 10))
    except Exception:
        return ""


async def _replicas(url: str) -> int:
    nc = await _connect(url)
    try:
        return (await nc.jetstream().stream_info(EVENTS_STREAM)).config.num_replicas or 1
    finally:
        await nc.close()


def replicas(url: str) -> int:
    return asyncio.run(_replicas(url))
