"""Operators steering the exchange: pause, resume and replay links; retry dead letters.

A link is (direction, from place, to place); its receiver is the service of the place it flows
into (o2h: inflow, h2o: outflow). Pausing writes `pause.<service>.<place>.<from>` (one source)
or `pause.<service>.<place>` (every source) into the control bucket; the receiver reads them
twice a second and holds paused messages back with a delayed negative ack.

A replay resets the receiver's durable consumer, which serves every source flowing into that
place: it is only allowed while the whole receiver is paused (so the receiver is not fetching
while its consumer is deleted and recreated), and the receiver's tracking turns every message it
has already applied into a no-op, so only missing facts apply. A replay that starts after the
consumer's acknowledged floor + 1 would skip the facts in between for good: it is refused (422,
with how many) unless the operator passes `allow_gap`, and then the gap is recorded (gaps.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from services.sync.adapters.deadletters import DeadLetterStore
from services.sync.adapters.gaps import GapStore
from services.sync.adapters.places import Places, sides_of
from services.sync.adapters.statuses import StatusRefused, take_status
from services.sync.adapters.streams import ack_floor, count_between, last_sequence
from shared.contracts.envelope import H2O, O2H
from shared.messaging.pull import RETRY_CLASS_HEADER, RETRY_HEADER
from shared.messaging.topology import (
    CONTROL_BUCKET,
    EVENTS_STREAM,
    STATUS_BUCKET,
    inbound_filter,
    pause_key,
    receiver_consumer,
    receiver_durable,
)


class ControlError(Exception):
    def __init__(self, code: str, message: str, status: int = 409):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def receiver_service(direction: str) -> str:
    if direction not in (O2H, H2O):
        raise ControlError("link.bad_direction", f"direction {direction!r} is not o2h or h2o", 422)
    return "inflow" if direction == O2H else "outflow"


class Controller:
    def __init__(  # type: ignore[no-untyped-def]
        self, js_source, deadletters: DeadLetterStore, gaps: GapStore, places: Places | None = None
    ):
        self._js_source = js_source  # a callable returning the observer's JetStream context
        self.deadletters, self.gaps, self.places = deadletters, gaps, places

    @property
    def js(self) -> JetStreamContext:
        js = self._js_source()
        if js is None:
            raise ControlError("nats.unavailable", "the sync service is not connected to NATS", 503)
        return js

    async def set_pause(
        self, direction: str, to_place: str, from_place: str | None, paused: bool
    ) -> str:
        key = pause_key(receiver_service(direction), to_place, from_place)
        kv = await self.js.key_value(CONTROL_BUCKET)
        await kv.put(key, b"1" if paused else b"0")
        return key

    async def is_paused(self, direction: str, to_place: str, from_place: str | None) -> bool:
        kv = await self.js.key_value(CONTROL_BUCKET)
        try:
            entry = await kv.get(pause_key(receiver_service(direction), to_place, from_place))
        except NotFoundError:
            return False
        return entry.value == b"1"

    async def replay(
        self, direction: str, to_place: str, from_sequence: int, *, allow_gap: bool = False,
        by: str = "", reason: str = "",
    ) -> dict[str, object]:  # fmt: skip
        service = receiver_service(direction)
        if not await self.is_paused(direction, to_place, None):
            raise ControlError(
                "link.not_paused",
                f"pause the receiver {service} {to_place} first (its consumer serves every source)",
            )
        js = self.js
        last = await last_sequence(js)
        if from_sequence > last + 1:
            raise ControlError(
                "replay.beyond_stream",
                f"from_sequence {from_sequence} is beyond the events stream, whose last sequence "
                f"is {last} (at most {last + 1}: only facts still to come)",
                422,
            )
        since = time.time()
        await self._wait_receiver_paused(service, to_place, since)
        durable = receiver_durable(service, to_place)
        floor = await ack_floor(js, durable)
        skipped = await self._skipped(direction, to_place, floor + 1, from_sequence)
        total = sum(skipped.values())
        if total and not allow_gap:
            raise ControlError(
                "replay.would_skip",
                f"from_sequence {from_sequence} is beyond {service} {to_place}'s acknowledged "
                f"floor {floor} + 1: it would skip up to {total} fact(s) never acknowledged "
                f"(sequences {floor + 1}..{from_sequence - 1}). Replay from {floor + 1} or "
                "earlier, or pass allow_gap with a reason to skip them on record",
                422,
            )
        with contextlib.suppress(NotFoundError):
            await js.delete_consumer(EVENTS_STREAM, durable)
        config = receiver_consumer(service, to_place, direction, start_seq=from_sequence)
        await js.add_consumer(EVENTS_STREAM, config=config)
        covered = await asyncio.to_thread(
            self.gaps.close_covered, direction, to_place, from_sequence, by
        )
        gap_ids = await asyncio.to_thread(
            self.gaps.record, direction, to_place, floor + 1, from_sequence - 1, skipped, by,
            reason,
        )  # fmt: skip
        await self.set_pause(direction, to_place, None, False)
        return {
            "consumer": durable,
            "from_sequence": from_sequence,
            "acknowledged_floor": floor,
            "skipped": total,
            "skipped_by_source": skipped,
            "gaps_recorded": gap_ids,
            "gaps_closed": covered,
            "resumed": True,
        }

    async def _skipped(self, direction: str, to_place: str, first: int, end: int) -> dict[str, int]:
        """Facts per source in [first, end) that a replay from `end` would never deliver."""
        total = await count_between(self.js, inbound_filter(direction, to_place), first, end)
        if not total:
            return {}
        by_source: dict[str, int] = {}
        sender_side, _ = sides_of(direction)
        for source in self.places.on_side(sender_side) if self.places else []:
            if source == to_place:
                continue
            subject = f"liangdi.ev.{direction}.{source}.{to_place}.>"
            count = await count_between(self.js, subject, first, end)
            if count:
                by_source[source] = count
        rest = total - sum(by_source.values())
        if rest > 0:  # from places the topology does not know (forged or retired): shown as such
            by_source["*"] = rest
        return by_source

    async def _wait_receiver_paused(self, service: str, place: str, since: float) -> None:
        """Until the receiver reports (in a heartbeat newer than the pause) that it holds still."""
        kv = await self.js.key_value(STATUS_BUCKET)
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:
            try:
                entry = await kv.get(f"{service}.{place}")
                status = take_status(f"{service}.{place}", entry.value or b"")
                receiver = status["receiver"] or {}
                if receiver.get("paused") and status["at"] > since:
                    return
                if time.time() - status["at"] > 10.0:
                    return  # the receiver is down: nothing is fetching
            except NotFoundError:
                return  # never started: nothing is fetching
            except StatusRefused:
                pass  # unreadable: not a confirmation; a good heartbeat may still come
            await asyncio.sleep(0.2)
        raise ControlError("link.pause_not_seen", f"{service} {place} did not confirm the pause")

    async def retry(self, dead_letter_id: str, by: str) -> dict[str, str]:
        letter = self.deadletters.get(dead_letter_id)
        if letter is None:
            raise ControlError("dead_letter.not_found", f"no dead letter {dead_letter_id}", 404)
        if letter["state"] != "open":
            raise ControlError(
                f"dead_letter.{letter['state']}",
                f"dead letter is {letter['state']}: only an open one is retried (a retry that "
                "fails again arrives as a new dead letter)",
            )
        subject = letter["subject"]
        msg_id = f"retry.{dead_letter_id}.{uuid.uuid4().hex[:8]}"
        await self.js.publish(
            subject,
            letter["raw"],
            headers={
                RETRY_HEADER: dead_letter_id,
                RETRY_CLASS_HEADER: letter["reason_class"],
                "Nats-Msg-Id": msg_id,
            },
        )
        await asyncio.to_thread(self.deadletters.mark_retried, dead_letter_id, by)
        return {"id": dead_letter_id, "subject": subject, "msg_id": msg_id}
