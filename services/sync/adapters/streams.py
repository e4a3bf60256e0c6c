"""Figures read off the events stream itself, independent of what any process counted in memory:
how many messages a subject filter holds (from a sequence on), a receiver's acknowledged floor,
and the messages each link received.

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

from shared.messaging.topology import EVENTS_STREAM, event_subject


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
    total = await count_matching(js, subject_filter, first)
    return max(total - (await count_matching(js, subject_filter, end) if total else 0), 0)


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


class LinkTally:
    """Messages per link (direction, from, to) the events stream received: what was really
    published, whatever any process counted since it started. Each round counts on from where
    the last one ended, so it only reads the stream's new end (a link's first round reads all)."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, str], int] = {}
        self._counted_to: dict[tuple[str, str, str], int] = {}

    async def update(self, js: JetStreamContext, keys: set[tuple[str, str, str]]) -> None:
        last = await last_sequence(js)
        if last < max(self._counted_to.values(), default=0):  # the stream was recreated
            self._counted_to.clear()
            self.counts = {}
        counts = dict(self.counts)
        for key in sorted(keys):
            start = self._counted_to.get(key, 0) + 1
            if start > last:
                counts.setdefault(key, 0)
                continue
            with contextlib.suppress(Exception):  # counted next round
                subject = event_subject(*key, ">")
                counts[key] = counts.get(key, 0) + await count_between(js, subject, start, last + 1)
                self._counted_to[key] = last
        self.counts = counts
