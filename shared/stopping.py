"""Ending a service's background loops before its store closes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable


async def end_loops(tasks: Iterable[asyncio.Task[None]], grace: float = 10.0) -> None:
    """Lets each loop end after its current step (its stop event is already set), then cancels
    what is left. A cancel alone is not enough: a step handed to a thread runs on after it, and
    the store must still be open for that step."""
    for task in tasks:
        with contextlib.suppress(TimeoutError, asyncio.CancelledError, Exception):
            await asyncio.wait_for(asyncio.shield(task), timeout=grace)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
