"""How every liangdi process connects to NATS: reconnecting for ever, and with an inbox prefix of
its own, which is what the per-place NATS permissions (deploy/nats/permissions) allow replies on."""

from __future__ import annotations

import nats
from nats.aio.client import Client


def inbox_prefix(owner: str) -> str:
    """`_INBOX.<place>` for a place's services, `_INBOX.sync` for the exchange's."""
    return f"_INBOX.{owner}"


async def connect(servers: list[str], *, name: str, owner: str) -> Client:
    return await nats.connect(
        servers=servers,
        name=name,
        inbox_prefix=inbox_prefix(owner),
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        connect_timeout=3,
        allow_reconnect=True,
    )
