"""The bytes the anti-entropy exchange puts on the wire, counted by a listener of its own.

A separate connection (the test admin's) subscribes, for the length of one run, to
- `liangdi.ae.>`: the sync service's requests to the places (it notes each request's reply
  subject and op), and the places' answers (`liangdi.ae.answers.>`), counted when sent to a
  noted reply subject;
- `liangdi.ev.>`: facts; only re-sends (`Nats-Msg-Id` `<id>.resend.<run>`) are counted.
A message's bytes are those of its subject, reply subject, headers (as NATS frames them) and
payload: what a client hands the server, without the protocol verb. A full re-send is measured
the same way over the link's facts in the stream (`link_bytes`), so the share compares like
with like. Status heartbeats and the rest of the traffic are not part of the exchange and are
not counted (nats-server's `/varz` would count them).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from typing import Any

import nats
from nats.aio.msg import Msg


def message_bytes(subject: str, reply: str, headers: dict[str, str] | None, data: bytes) -> int:
    framed = 0
    if headers:  # "NATS/1.0\r\n", one "key: value\r\n" a header, then "\r\n"
        framed = 12 + sum(len(k) + len(v) + 4 for k, v in headers.items())
    return len(subject) + len(reply) + framed + len(data)


def _size(msg: Msg) -> int:
    return message_bytes(msg.subject, msg.reply or "", msg.headers, msg.data)


class WireCount:
    """Counts while open (a background event loop of its own); `close()` gives bytes by kind."""

    def __init__(self, nats_url: str):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.ops: dict[str, str] = {}  # reply subject -> the op asked
        self.replies: list[tuple[str, int]] = []
        self.counted: Counter[str] = Counter()
        self._call(self._open(nats_url))

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    async def _open(self, nats_url: str) -> None:
        self.nc = await nats.connect(nats_url, name="liangdi-bench-wirecount")
        await self.nc.subscribe("liangdi.ae.>", cb=self._request)
        await self.nc.subscribe("liangdi.ev.>", cb=self._fact)
        await self.nc.flush()

    async def _request(self, msg: Msg) -> None:
        if msg.subject.startswith("liangdi.ae.answers."):
            # Attributed at the end: an answer may be read before its question's callback ran.
            self.replies.append((msg.subject, _size(msg)))
            return
        op = str(json.loads(msg.data).get("op"))
        self.ops[msg.reply] = op
        self.counted[f"{op} requests"] += _size(msg)

    async def _fact(self, msg: Msg) -> None:
        if ".resend." in (msg.headers or {}).get("Nats-Msg-Id", ""):
            self.counted["re-sent facts"] += _size(msg)

    async def _close(self) -> None:
        await self.nc.flush()
        await self.nc.drain()

    def close(self) -> Counter[str]:
        self._call(self._close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        for subject, size in self.replies:
            if subject in self.ops:
                self.counted[f"{self.ops[subject]} replies"] += size
        return self.counted


async def _link_bytes(nats_url: str, subjects: str) -> tuple[int, int]:
    nc = await nats.connect(nats_url)
    try:
        sub = await nc.jetstream().subscribe(subjects, ordered_consumer=True)
        total = count = 0
        while True:
            msg = await sub.next_msg(timeout=10)
            total += message_bytes(msg.subject, "", msg.headers, msg.data)
            count += 1
            if msg.metadata.num_pending == 0:
                return total, count
    finally:
        await nc.close()


def link_bytes(nats_url: str, subjects: str) -> tuple[int, int]:
    """(bytes, facts) of a full re-send: every fact the stream holds on these subjects."""
    return asyncio.run(_link_bytes(nats_url, subjects))
