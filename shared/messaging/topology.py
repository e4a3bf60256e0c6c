"""Streams, subjects, consumers and buckets: declared here, created idempotently at start-up.

Subjects route by place: `liangdi.ev.<dir>.<from>.<to>.<member>`, so a host's consumer filters on
its own code and never sees another host's members, and an origin only its own members' facts.

Limits come from the environment so an operator can size them without a release:
`LIANGDI_NATS_REPLICAS` (1 embedded, 3 on a cluster), `LIANGDI_STREAM_MAX_AGE_DAYS` (365: longer
than any plausible outage of a place), `LIANGDI_DUPLICATE_WINDOW_SECONDS` (600: longer than a
relay takes to restart and re-publish its last unrecorded batch), and for a receiver's consumer
`LIANGDI_RECEIVER_ACK_WAIT_SECONDS` (10) and `LIANGDI_RECEIVER_MAX_ACK_PENDING` (512).
"""

from __future__ import annotations

import contextlib
import logging

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
from nats.js.errors import APIError, BadRequestError, NotFoundError
from nats.js.kv import KeyValue

from shared.config import ExchangeSettings

log = logging.getLogger(__name__)

EVENTS_STREAM = "LIANGDI_EVENTS"
DEADLETTER_STREAM = "LIANGDI_DEADLETTER"
STATUS_BUCKET = "liangdi_status"
CONTROL_BUCKET = "liangdi_control"
DAY = 86_400.0


def _replicas() -> int:
    # A JetStream cluster in production runs with 3; the embedded default has one server.
    return ExchangeSettings().nats_replicas


def _max_age() -> float:
    return ExchangeSettings().stream_max_age_days * DAY


def _duplicate_window() -> float:
    return ExchangeSettings().duplicate_window_seconds


def _receiver_ack_wait() -> float:
    return ExchangeSettings().receiver_ack_wait_seconds


def _receiver_max_ack_pending() -> int:
    return ExchangeSettings().receiver_max_ack_pending


def event_subject(direction: str, from_place: str, to_place: str, member_id: str) -> str:
    return f"liangdi.ev.{direction}.{from_place}.{to_place}.{member_id}"


def inbound_filter(direction: str, place: str) -> str:
    return f"liangdi.ev.{direction}.*.{place}.>"


def deadletter_subject(service: str, place: str) -> str:
    return f"liangdi.dlq.{service}.{place}"


def receiver_durable(service: str, place: str) -> str:
    return f"{service}-{place}"


def pause_key(service: str, place: str, from_place: str | None = None) -> str:
    """Control key pausing a receiver (all sources) or one source link into it."""
    return f"pause.{service}.{place}" + (f".{from_place}" if from_place else "")


def source_of(subject: str) -> str:
    """The sending place of an event subject (`liangdi.ev.<dir>.<from>.<to>.<member>`)."""
    parts = subject.split(".")
    return parts[3] if len(parts) > 4 else ""


def stream_configs() -> list[StreamConfig]:
    return [
        StreamConfig(
            name=EVENTS_STREAM,
            subjects=["liangdi.ev.>"],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            max_age=_max_age(),
            duplicate_window=_duplicate_window(),
            num_replicas=_replicas(),
        ),
        StreamConfig(
            name=DEADLETTER_STREAM,
            subjects=["liangdi.dlq.>"],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            max_age=_max_age(),
            duplicate_window=_duplicate_window(),
            num_replicas=_replicas(),
        ),
    ]


def receiver_consumer(
    service: str, place: str, direction: str, start_seq: int | None = None
) -> ConsumerConfig:
    """The receiver's durable pull consumer; `start_seq` for an operator's replay.

    `max_ack_pending` > 1 lets JetStream redeliver out of order (a receiver that died with
    messages delivered but not acknowledged gets them back only after `ack_wait`, behind newer
    ones); the receiver's prevseq parking restores per-member order. `ack_wait` is how long such
    a message stays invisible: short, since a message takes milliseconds to apply and a copy
    redelivered early is only a tracked duplicate.

    Parked messages can never starve their predecessor: the relay publishes a place's facts in
    notification order (one connection, each batch acknowledged before the next), so a fact's
    predecessor has a lower stream sequence and was delivered first. It is then applied, or
    pending (delivered, not yet acknowledged, or negatively acknowledged with a delay), and
    JetStream hands out pending redeliveries before new messages, even when parked messages fill
    `max_ack_pending`: that bound only holds back first deliveries. A predecessor can only be
    late by `ack_wait`, which is far below the receiver's `park_timeout`.
    """
    return ConsumerConfig(
        name=receiver_durable(service, place),
        durable_name=receiver_durable(service, place),
        filter_subject=inbound_filter(direction, place),
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE if start_seq else DeliverPolicy.ALL,
        opt_start_seq=start_seq,
        ack_wait=_receiver_ack_wait(),
        max_ack_pending=_receiver_max_ack_pending(),
        max_deliver=-1,
    )


DEADLETTER_CONSUMER = "sync-deadletters"


def deadletter_consumer() -> ConsumerConfig:
    return ConsumerConfig(
        name=DEADLETTER_CONSUMER,
        durable_name=DEADLETTER_CONSUMER,
        filter_subject="liangdi.dlq.>",
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=30.0,
        max_ack_pending=256,
    )


async def ensure_consumer(js: JetStreamContext, stream: str, config: ConsumerConfig) -> None:
    """Creates the durable consumer, or updates it in place where the server allows.

    Never deletes: a consumer whose unchangeable settings differ (for example one an operator's
    replay recreated with a start sequence) is kept as it is, with its acknowledged position.
    """
    try:
        await js.add_consumer(stream, config=config)
    except APIError as exc:
        log.info("consumer %s kept as it is: %s", config.durable_name, exc)


async def ensure_topology(js: JetStreamContext) -> None:
    """Creates missing streams and buckets and brings changed ones up to their declaration; safe
    to call from every process. Under per-place NATS permissions only the sync user may manage
    streams: a place finds them there and, if they differ, says so instead of failing."""
    for config in stream_configs():
        try:
            info = await js.stream_info(config.name)
        except NotFoundError:
            with contextlib.suppress(BadRequestError):  # another process created it just now
                await js.add_stream(config)
            continue
        if _differs(info.config, config):
            try:
                await js.update_stream(config)
            except Exception as exc:  # no permission, or a change the server refuses
                log.warning("stream %s differs from its declaration, kept: %s", config.name, exc)
    for bucket in (STATUS_BUCKET, CONTROL_BUCKET):
        try:
            await js.key_value(bucket)
        except NotFoundError:
            await js.create_key_value(
                KeyValueConfig(bucket=bucket, history=1, replicas=_replicas())
            )


async def bucket_entries(js: JetStreamContext, bucket: str) -> dict[str, KeyValue.Entry]:
    """The live entries of a key-value bucket (deleted and purged keys left out), by key.

    The keys are read off the bucket's stream subjects in one bounded request (the server
    answers up to 100,000 subjects, far more than a deployment's places and switches), then each
    entry got. nats-py's `KeyValue.keys()` watches the bucket until a message reports nothing
    pending: while keys are being rewritten under it, as the places' statuses are every second,
    it answered with keys counted twice, too few, none, or never (nats-server issue 3481)."""
    prefix = f"$KV.{bucket}."
    info = await js.stream_info(f"KV_{bucket}", subjects_filter=f"{prefix}>")
    kv = await js.key_value(bucket)
    entries: dict[str, KeyValue.Entry] = {}
    for subject in sorted(info.state.subjects or {}):
        key = subject[len(prefix) :]
        with contextlib.suppress(NotFoundError):  # deleted or purged (KeyDeletedError) since
            entries[key] = await kv.get(key)
    return entries


def _differs(actual: StreamConfig, declared: StreamConfig) -> bool:
    fields = ("subjects", "retention", "storage", "max_age", "duplicate_window", "num_replicas")
    return any(getattr(actual, f) != getattr(declared, f) for f in fields)
