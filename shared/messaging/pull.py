"""Taking messages from a pull consumer, and what a dead letter carries with it."""

from __future__ import annotations

import contextlib
from typing import Any

from nats.aio.msg import Msg

from shared.messaging.batch import Delivery
from shared.messaging.tally import reason_class

FETCH_BATCH = 256  # messages taken from the consumer at most per round (one transaction)
RETRY_HEADER = "Liangdi-Retry-Of"
RETRY_CLASS_HEADER = "Liangdi-Retry-Class"  # the retried dead letter's reason class


async def fetch_available(sub: Any) -> list[Msg]:
    """Waits (up to a second) for the first message, then takes what else is there at once.

    nats-py's fetch of a batch, once it has to wait for messages, returns only when the whole
    batch came or its timeout passed: a fact arriving alone waited out the timeout before it was
    applied (a second at most, half of one on average). Raises TimeoutError when nothing came.
    """
    messages = await sub.fetch(batch=1, timeout=1.0)
    # Then what is there already (its first, no-wait request); a short bound, since this fetch
    # too would linger when nothing is: what arrives later is the next round's first message.
    with contextlib.suppress(TimeoutError):
        messages += await sub.fetch(batch=FETCH_BATCH - 1, timeout=0.005)
    return messages


def delivery_of(msg: Msg, checked: Any = None) -> Delivery:
    """What the receiver decides a message by (an operator's retry carries its dead letter);
    `checked`, what the receiver's check of it gave, if it was checked ahead."""
    headers = msg.headers or {}
    return Delivery(
        msg.data,
        headers.get(RETRY_HEADER),
        headers.get(RETRY_CLASS_HEADER),
        msg.subject,
        msg.metadata.sequence.stream,
        checked,
    )


def deadletter_headers(
    service: str, place: str, direction: str, msg: Msg, source: str, reason: str
) -> dict[str, str]:
    """Why and where from: the operators' dead-letter view and its retries read these."""
    stream_seq = msg.metadata.sequence.stream
    return {
        "Nats-Msg-Id": f"dlq.{service}.{place}.{stream_seq}",
        "Liangdi-Reason": reason[:1000],
        "Liangdi-Reason-Class": reason_class(reason),
        "Liangdi-Subject": msg.subject,
        "Liangdi-From": source,
        "Liangdi-Direction": direction,
        "Liangdi-Receiver": f"{service}:{place}",
        "Liangdi-Stream-Seq": str(stream_seq),
    }
