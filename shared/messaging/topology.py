"""Streams, subjects, consumers and buckets: declared here, created idempotently at start-up.

Subjects route by place: `liangdi.ev.<dir>.<from>.<to>.<member>`, so a host's consumer filters on
its own code and never sees another host's members, and an origin only its own members' facts.
"""

from __future__ import annotations

import os

from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    KeyValueConfig,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import BadRequestError, NotFoundError

EVENTS_STREAM = "LIANGDI_EVENTS"
DEADLETTER_STREAM = "LIANGDI_DEADLETTER"
STATUS_BUCKET = "liangdi_status"
CONTROL_BUCKET = "liangdi_control"
DAY = 86_400.0


def _replicas() -> int:
    # A JetStream cluster in production runs with 3; the embedded default has one server.
    return int(os.environ.get("LIANGDI_NATS_REPLICAS", "1"))


def event_subject(direction: str, from_place: str, to_place: str, member_id: str) -> str:
    return f"liangdi.ev.{direction}.{from_place}.{to_place}.{member_id}"


def inbound_filter(direction: str, place: str) -> str:
    return f"liangdi.ev.{direction}.*.{place}.>"


def deadletter_subject(service: str, place: str) -> str:
    return f"liangdi.dlq.{service}.{place}"


def receiver_durable(service: str, place: str) -> str:
    return f"{service}-{place}"


def stream_configs() -> list[StreamConfig]:
    return [
        StreamConfig(
            name=EVENTS_STREAM,
            subjects=["liangdi.ev.>"],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            max_age=365 * DAY,  # longer than any plausible outage of a place
            duplicate_window=600.0,
            num_replicas=_replicas(),
        ),
        StreamConfig(
            name=DEADLETTER_STREAM,
            subjects=["liangdi.dlq.>"],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            max_age=365 * DAY,
            duplicate_window=600.0,
            num_replicas=_replicas(),
        ),
    ]


def receiver_consumer(service: str, place: str, direction: str) -> ConsumerConfig:
    return ConsumerConfig(
        durable_name=receiver_durable(service, place),
        filter_subject=inbound_filter(direction, place),
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=30.0,
        max_ack_pending=512,
    )


async def ensure_topology(js: JetStreamContext) -> None:
    """Creates or updates every stream and bucket; safe to call from every process."""
    for config in stream_configs():
        try:
            await js.add_stream(config)
        except BadRequestError:
            await js.update_stream(config)
    for bucket in (STATUS_BUCKET, CONTROL_BUCKET):
        try:
            await js.key_value(bucket)
        except (NotFoundError, BadRequestError, Exception):
            await js.create_key_value(
                KeyValueConfig(bucket=bucket, history=1, replicas=_replicas())
            )
