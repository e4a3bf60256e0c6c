"""The receiving side of a place's link (`PlaceAgent`): its pull consumer's loop, a fetched
batch applied in one transaction on the receiver's own thread, then each message settled
(acknowledged, parked or dead-lettered), and the operators' pause switches honoured."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nats.aio.msg import Msg
from nats.js import JetStreamContext

from shared.lanes import Lane
from shared.messaging.control import PauseSwitches
from shared.messaging.pull import RETRY_HEADER, deadletter_headers, delivery_of, fetch_available
from shared.messaging.receiver import (
    APPLIED,
    DEAD,
    DUPLICATE,
    PARKED,
    Delivery,
    InboundProcessor,
    Outcome,
)
from shared.messaging.topology import (
    EVENTS_STREAM,
    deadletter_subject,
    ensure_consumer,
    receiver_consumer,
    source_of,
)

log = logging.getLogger("shared.messaging.agent")  # the link's log, as before the split


class StalledSubscription(Exception):
    """Fetches keep timing out although the consumer has messages waiting."""


@dataclass
class Fetched:
    """A batch taken from the consumer, with the receiver's check of each message (`checks`,
    None if checking failed: each is then checked as it is applied)."""

    messages: list[Msg]
    checks: list[Any] | None


class ReceivingSide:
    """Mixed into `PlaceAgent`, which sets these and runs `_receiver_loop` and
    `_control_loop` while it leads."""

    service: str
    place: str
    processor: InboundProcessor | None
    js: JetStreamContext | None
    pauses: PauseSwitches
    park_delay: float
    pause_delay: float
    watchdog_after: float
    receiver_error: str | None
    receiver_error_at: float | None
    receiver_errors: int
    resubscribes: int
    on_applied: Callable[[], None] | None
    _receiving: Lane
    _checking: Lane

    def _running(self) -> bool:
        raise NotImplementedError

    async def _receiver_loop(self) -> None:
        assert self.processor is not None and self.js is not None
        config = receiver_consumer(self.service, self.place, self.processor.direction)
        durable = config.durable_name or ""
        ahead: asyncio.Future[Fetched] | None = None  # the next batch, fetched meanwhile
        while self._running():
            sub = None
            try:
                if self.paused:  # an operator may be resetting the consumer: leave it alone
                    await asyncio.sleep(0.5)
                    continue
                await ensure_consumer(self.js, EVENTS_STREAM, config)
                sub = await self.js.pull_subscribe_bind(durable=durable, stream=EVENTS_STREAM)
                idle_since = time.monotonic()
                while self._running():
                    if self.paused:
                        await self._hold_back(ahead)
                        ahead = None
                        await asyncio.sleep(0.5)
                        idle_since = time.monotonic()
                        continue
                    try:
                        fetched = await (ahead or self._fetch_checked(sub))
                    except TimeoutError:
                        # A pause or its end (an operator replaying: the consumer deleted and
                        # made anew under the fetch) starts the idle time afresh; a fetch that
                        # ran into one is not a stalled subscription.
                        idle_since = max(idle_since, self.pauses.link_changed_at)
                        if self.paused:
                            continue
                        if time.monotonic() - idle_since > self.watchdog_after:
                            idle_since = time.monotonic()
                            await self._watchdog(durable)
                        continue
                    finally:
                        ahead = None
                    idle_since = time.monotonic()
                    if self.paused:  # paused while they came: none is applied
                        await self._hold_back(fetched)
                        continue
                    # The next batch is taken from the consumer and checked while this one is
                    # applied on the receiver's own thread: a backlog's batches follow one
                    # another without waiting for the server in between, and the signature
                    # checks of one overlap the saves of the other (docs/performance.md).
                    ahead = asyncio.ensure_future(self._fetch_checked(sub))
                    await self._handle(fetched)
                    self.receiver_error = None
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # A pull subscription can stop after a server restart: build a new one.
                self._record_error(exc)
                log.warning("receiver: %s; resubscribing", self.receiver_error)
                await asyncio.sleep(1.0)
            finally:
                with contextlib.suppress(BaseException):
                    await self._hold_back(ahead)
                ahead = None
                if sub is not None:
                    with contextlib.suppress(Exception):
                        await sub.unsubscribe()

    async def _fetch_checked(self, sub: Any) -> Fetched:
        """A batch from the consumer (TimeoutError when none came), checked on the receiver's
        checking thread. Cancelled while checking, it gives its messages back."""
        assert self.processor is not None
        messages = await fetch_available(sub)
        items = [(msg.data, msg.subject) for msg in messages]
        apart = self.processor.checks_apart
        try:
            if apart is not None and apart.takes(items):  # a backlog's (checks_apart.py)
                checks = await apart.check_all(items)
            else:
                checks = await self._checking.run(self.processor.check_all, items)
        except asyncio.CancelledError:
            await self._hold_back(messages)
            raise
        except Exception:  # a bug in a check: each is checked again as it is applied
            log.exception("receiver: checking a batch ahead failed")
            checks = None
        return Fetched(messages, checks)

    async def _hold_back(self, fetched: Any) -> None:
        """Gives back unapplied what was fetched (a batch, or a fetch still under way): each
        comes again after the pause delay, as a paused source's messages do."""
        if isinstance(fetched, asyncio.Future):
            if not fetched.done():
                fetched.cancel()
            with contextlib.suppress(BaseException):
                fetched = await fetched
            if not isinstance(fetched, Fetched | list):
                return
        if isinstance(fetched, Fetched):
            fetched = fetched.messages
        for msg in fetched or ():
            with contextlib.suppress(Exception):
                await msg.nak(delay=self.pause_delay)

    def _record_error(self, exc: BaseException) -> None:
        self.receiver_error = f"{type(exc).__name__}: {exc}"
        self.receiver_error_at = time.time()
        self.receiver_errors += 1

    async def _watchdog(self, durable: str) -> None:
        assert self.js is not None
        info = await self.js.consumer_info(EVENTS_STREAM, durable)
        if (info.num_pending or 0) > 0:
            self.resubscribes += 1
            raise StalledSubscription(
                f"fetch idle for {self.watchdog_after:.0f}s with {info.num_pending} pending"
            )

    async def _handle(self, fetched: Fetched) -> None:
        """Applies a fetched batch in one transaction, then settles each message in order."""
        assert self.processor is not None and self.js is not None
        checks = fetched.checks or [None] * len(fetched.messages)
        taken: list[Msg] = []
        deliveries: list[Delivery] = []
        for msg, checked in zip(fetched.messages, checks, strict=True):
            if await self.pauses.source_paused(self.js, source_of(msg.subject)):
                await msg.nak(delay=self.pause_delay)
            else:
                taken.append(msg)
                deliveries.append(delivery_of(msg, checked))
        if not deliveries:
            return
        try:
            outcomes = await self._receiving.run(self.processor.process_batch, deliveries)
        except Exception as exc:  # the batch's own machinery failed: every message comes back
            outcomes = [exc] * len(deliveries)
        for msg, delivery, outcome in zip(taken, deliveries, outcomes, strict=True):
            if isinstance(outcome, Exception):
                # Not the message's fault as far as we know (database down, a bug): it is
                # neither applied nor dead-lettered; it comes back later, and the error shows.
                self._record_error(outcome)
                log.warning("receiver: %s; message held back", self.receiver_error)
                await msg.nak(delay=self.pause_delay)
            else:
                await self._settle(msg, delivery, outcome)

    async def _settle(self, msg: Msg, delivery: Delivery, outcome: Outcome) -> None:
        """Acknowledges, parks or dead-letters one decided message."""
        assert self.processor is not None and self.js is not None
        meta, source, retry_of = msg.metadata, source_of(msg.subject), delivery.retry_of
        self.processor.note_position(outcome, meta.sequence.stream)
        if outcome.result in (APPLIED, DUPLICATE):
            await msg.ack()
            if outcome.result == APPLIED and self.on_applied is not None:
                self.on_applied()
        elif outcome.result == PARKED:
            # Back off up to 5 park delays: hundreds of parked messages behind a predecessor that
            # returns only after ack_wait must not be re-checked (signature, store) every second.
            attempts = max(int(meta.num_delivered or 1), 1)
            await msg.nak(delay=self.park_delay * min(attempts, 5))
        elif outcome.result == DEAD:
            headers = deadletter_headers(
                self.service, self.place, self.processor.direction, msg, source, outcome.reason
            )
            if retry_of:
                headers[RETRY_HEADER] = retry_of
            # Acknowledged only once the dead letter is stored: nothing is silently dropped.
            await self.js.publish(
                deadletter_subject(self.service, self.place), msg.data, headers=headers
            )
            await self._receiving.run(self.processor.settle, outcome)
            await msg.ack()
            log.warning("dead letter: %s", outcome.reason)

    @property
    def paused(self) -> bool:
        return self.pauses.link

    @property
    def paused_sources(self) -> set[str]:
        return self.pauses.sources

    async def _control_loop(self) -> None:
        assert self.js is not None
        while self._running():
            with contextlib.suppress(Exception):
                await self.pauses.refresh(self.js)
            await asyncio.sleep(0.5)
