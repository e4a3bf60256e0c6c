"""The operators' pause switches of one receiver, kept in the control bucket (docs/sync.md): the
whole link, and each place it receives from. The sync service's admin API sets them; the
receiver reads them every half second and whenever a message comes from a place not seen yet."""

from __future__ import annotations

import contextlib
import time
from typing import Any

from nats.js import JetStreamContext

from shared.messaging.topology import CONTROL_BUCKET, pause_key


class PauseSwitches:
    def __init__(self, service: str, place: str):
        self.service, self.place = service, place
        self.link = False  # the whole receiver paused (an operator may be resetting its consumer)
        self.link_changed_at = 0.0  # monotonic: when `link` last flipped
        self.sources: set[str] = set()  # the places whose facts are held back
        self._known: set[str] = set()

    async def source_paused(self, js: JetStreamContext, source: str) -> bool:
        if source and source not in self._known:
            self._known.add(source)
            with contextlib.suppress(Exception):  # control unreadable: the link keeps flowing
                await self.refresh(js)
        return source in self.sources

    async def refresh(self, js: JetStreamContext) -> None:
        kv = await js.key_value(CONTROL_BUCKET)
        link = await _flag(kv, pause_key(self.service, self.place))
        if link != self.link:
            self.link, self.link_changed_at = link, time.monotonic()
        self.sources = {
            source
            for source in list(self._known)
            if await _flag(kv, pause_key(self.service, self.place, source))
        }


async def _flag(kv: Any, key: str) -> bool:
    try:
        entry = await kv.get(key)
    except Exception:  # absent or deleted: not paused
        return False
    return entry.value == b"1"
