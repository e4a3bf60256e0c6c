"""Figures read off the events stream itself, independent of what any process counted in memory:
how many messages a subject filter holds (from a sequence on), and a receiver's acknowledged floor.

JetStream answers "how many messages match this filter from sequence N" as the `num_pending` of a
consumer created there; a short-lived named consumer is made, read and deleted for each question
(`inactive_threshold` removes it should the delete never arrive).
"""

from __future__ import annotations

import contextlib
import uuid

from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from shared.messaging.topology import EVENTS_STREAM


async def count_matching(js: JetStreamContext, subject_filter: str, start_seq: int = 1) -> int:
    """Messages in the events stream matching `subject_filter` at sequence `start_seq` or later."""
    name = f"sync-count-{uuid.uuid4().hex[:12]}"
    config = ConsumerConfig(
        name=name,
        filter_subject=subject_filter,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE if start_seq > 1 else DeliverPolicy.ALL,
        opt_start_seq=start_seq if start_seq > 1 else None,
        inactive_threshold=30.0,
        mem_storage=True,
    )
    info = await js.add_consumer(EVENTS_STREAM, config=config)
    with contextlib.suppress(Exception):
        await js.delete_consumer(EVENTS_STREAM, name)
    return int(info.num_pending or 0)


async def count_between(js: JetStreamContext, subject_filter: str, first: int, end: int) -> int:
    """Messages matching `subject_filter` with sequence in [first, end)."""
    if end <= first:
        return 0
    return max(
        await count_matching(js, subject_filter, first)
        - await count_matching(js, subject_filter, end),
        0,
    )


async def last_sequence(js: JetStreamContext) -> int:
    info = await js.stream_info(EVENTS_STREAM)
    return int(info.state.last_seq or 0)


async def ack_floor(js: JetStreamContext, durable: str) -> int:
    """The stream sequence up to which a consumer has every message acknowledged (0: none, or
    no such consumer: then nothing of the stream was ever settled through it)."""
    try:
        info = await js.consumer_info(EVENTS_STREAM, durable)
    except NotFoundError:
        return 0
    return int(info.ack_floor.stream_seq or 0) if info.ack_floor else 0
