"""A thread of its own for one background loop's blocking steps.

`asyncio.to_thread` runs on the event loop's default executor, a handful of threads (six on two
cores) that every request's audit entry and read-your-writes wait also use. Under the offices'
load the relay's reads, the receiver's batches and the read models' passes queued behind those,
and a departure reached the host seconds late although the link itself had nothing to do
(docs/performance.md, "Sixth pass"). A loop whose steps run one after another gets a lane: the
same call, on a thread nobody else queues on.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class Lane:
    def __init__(self, name: str):
        self.name = name
        self._executor: ThreadPoolExecutor | None = None

    async def run(self, fn: Callable[..., T], /, *args: Any) -> T:
        """`fn(*args)` on this lane's thread, with the caller's context (as `to_thread`)."""
        if self._executor is None:  # opened on first use, again after a close (a restart)
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self.name)
        loop = asyncio.get_running_loop()
        call = functools.partial(contextvars.copy_context().run, fn, *args)
        return await loop.run_in_executor(self._executor, call)

    def close(self) -> None:
        """Its thread ends once idle; a step under way finishes first (it is not interrupted)."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False)
