"""Anti-entropy, the exchange's half: do both ends of every link hold the same facts?

For each sending place (found in the status bucket) and each place it sends to: compare the
sender's digest tree of what it published with the receiver's of what it applied, from the root
down and only where they differ (`shared/messaging/aetree.py`); under the small nodes that differ,
fetch both sides' per-stream positions; a stream whose receiver position is behind the sender's
(still behind after a short settle, so in-flight facts are not reported) is a gap. In repair mode
the sender re-sends that stream's facts after the receiver's position; the receiver's tracking
drops anything it already holds. Nothing is overwritten.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from nats.aio.client import NO_RESPONDERS_STATUS
from nats.js.api import Header

from shared.config import SyncSettings
from shared.messaging.aetree import split
from shared.messaging.antientropy import answers_subject, antientropy_subject
from shared.messaging.topology import STATUS_BUCKET, bucket_entries
from shared.security.tokens import Role, issue_token

log = logging.getLogger(__name__)
Ask = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]  # one end of a link, asked
OTHER_SIDE = {"outflow": ("inflow", "o2h"), "inflow": ("outflow", "h2o")}


class PlaceUnavailable(Exception):
    pass


class AntiEntropy:
    def __init__(
        self, settings: SyncSettings, reconciliation: Any, settle: float = 1.0,
        timeout: float = 5.0, on_link: Callable[[dict[str, Any], float], None] | None = None,
    ):  # fmt: skip
        self.settings, self.reconciliation = settings, reconciliation
        self.on_link = on_link  # told of each link checked (a replay gap closes once agreed)
        self.settle, self.timeout = settle, timeout
        self.latest: dict[str, Any] | None = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self.settings.anti_entropy_interval > 0:
            self._task = asyncio.create_task(self._periodic(), name="antientropy")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _periodic(self) -> None:
        while True:
            await asyncio.sleep(self.settings.anti_entropy_interval)
            try:
                await self.run(repair=True)
            except Exception as exc:
                log.warning("anti-entropy run failed: %s", exc)

    async def _ask(self, service: str, place: str, request: dict[str, Any]) -> dict[str, Any]:
        await self.reconciliation.connect()
        nc = self.reconciliation.nc
        token = issue_token(
            self.settings.jwt_secret.get_secret_value(),
            role=Role.SYNC_ADMIN,
            place="*",
            subject="sync-antientropy",
            ttl_seconds=60,
        )
        # The answer comes on a subject of the place's own (`answers_subject`), not this
        # connection's inbox: a place's NATS user then needs no `allow_responses`.
        reply_to = f"{answers_subject(service, place)}.{uuid.uuid4().hex}"
        try:
            sub = await nc.subscribe(reply_to, max_msgs=1)
            try:
                await nc.publish(
                    antientropy_subject(service, place),
                    json.dumps(request, separators=(",", ":")).encode(),
                    reply=reply_to,
                    headers={"Authorization": f"Bearer {token}"},
                )
                reply = await sub.next_msg(timeout=self.timeout)
            finally:
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()
        except Exception as exc:
            raise PlaceUnavailable(f"{service} {place}: {type(exc).__name__}") from None
        if (reply.headers or {}).get(Header.STATUS) == NO_RESPONDERS_STATUS:  # nobody listens
            raise PlaceUnavailable(f"{service} {place}: no responders")
        answer = json.loads(reply.data)
        if "error" in answer:
            raise PlaceUnavailable(f"{service} {place}: {answer['error']['message']}")
        return answer

    async def _places(self) -> list[tuple[str, str]]:
        js = await self.reconciliation.connect()
        found = []
        for key in await bucket_entries(js, STATUS_BUCKET):
            service, _, place = key.partition(".")
            if service in OTHER_SIDE and len(place) == 6:
                found.append((service, place))
        return sorted(found)

    async def run(self, *, repair: bool = False, places: list[str] | None = None) -> dict:
        async with self._lock:
            run_id = uuid.uuid4().hex[:12]
            started = time.time()
            links, errors = [], []
            try:
                places_found = await self._places()
            except Exception as exc:  # not "no place": which places there are is not known
                places_found = []
                errors.append(f"the places' status: {type(exc).__name__}: {exc}")
            for service, place in places_found:
                try:
                    peers = (await self._ask(service, place, {"op": "peers"}))["sent_to"]
                except PlaceUnavailable as exc:
                    errors.append(str(exc))
                    continue
                for peer in peers:
                    if places and place not in places and peer not in places:
                        continue
                    try:
                        links.append(await self._link(service, place, peer, repair, run_id))
                    except PlaceUnavailable as exc:
                        errors.append(str(exc))
            result = {
                "run_id": run_id,
                "mode": "repair" if repair else "report",
                "started_at": started,
                "finished_at": time.time(),
                "agreed": not errors and all(link["agreed"] for link in links),
                "links": links,
                "errors": errors,
            }
            self.latest = result
            if self.on_link is not None:
                for link in links:
                    await asyncio.to_thread(self.on_link, link, started)
            return result

    async def _link(self, service: str, place: str, peer: str, repair: bool, run: str) -> dict:
        receiver, direction = OTHER_SIDE[service]

        async def sent(request: dict[str, Any]) -> dict[str, Any]:
            return await self._ask(service, place, {"op": "sent", "peer": peer, **request})

        async def applied(request: dict[str, Any]) -> dict[str, Any]:
            return await self._ask(receiver, peer, {"op": "applied", "peer": place, **request})

        selector, streams_sent, streams_applied, differing = await descend(sent, applied)
        link: dict[str, Any] = {
            "direction": direction,
            "from_place": place,
            "to_place": peer,
            "streams_sent": streams_sent,
            "streams_applied": streams_applied,
            "buckets_differing": differing,
            "missing": [],
            "receiver_ahead": [],
            "resent": 0,
        }
        if selector is not None:
            gaps, ahead = await self._diff(sent, applied, selector)
            if gaps:  # facts in flight settle in a moment; a gap stays
                await asyncio.sleep(self.settle)
                # Only the receiver is asked again: a sender's positions only grow, so a receiver
                # that has not moved on a stream is still behind what the sender had sent.
                now = (await applied(selector))["streams"]
                gaps = [g for g in gaps if now.get(g["stream"], 0) == g["receiver_seq"]]
            link["missing"], link["receiver_ahead"] = gaps, ahead
            if repair:
                for gap in gaps:
                    request = {
                        "op": "resend",
                        "peer": peer,
                        "stream": gap["stream"],
                        "after": gap["receiver_seq"],
                        "run": run,
                    }
                    link["resent"] += (await self._ask(service, place, request))["resent"]
        link["agreed"] = not link["missing"] and not link["receiver_ahead"]
        return link

    async def _diff(
        self, sent: Ask, applied: Ask, selector: dict[str, Any]
    ) -> tuple[list[dict], list[dict]]:
        """Stream by stream, under the nodes (or buckets) where the digests differ."""
        ours, theirs = (await sent(selector))["streams"], (await applied(selector))["streams"]
        gaps, ahead = [], []
        for stream in sorted(set(ours) | set(theirs)):
            entry = {
                "stream": stream,
                "sender_seq": ours.get(stream, 0),
                "receiver_seq": theirs.get(stream, 0),
            }
            if entry["sender_seq"] > entry["receiver_seq"]:
                gaps.append(entry)
            elif entry["sender_seq"] < entry["receiver_seq"]:
                ahead.append(entry)
        return gaps, ahead


async def descend(sent: Ask, applied: Ask) -> tuple[dict[str, Any] | None, int, int, int]:
    """Compare both ends' digest trees from the root down, only where they differ.

    Returns the request that lists the streams where they differ (None: they agree), the number
    of streams on each side and how many nodes (or buckets) differ. A place of the previous
    release ignores `nodes` and answers with its 64 bucket digests: then the buckets are compared.
    """
    mine, theirs = await sent({"nodes": [""]}), await applied({"nodes": [""]})
    if "nodes" not in mine or "nodes" not in theirs:
        mine = mine if "digest" in mine else await sent({})
        theirs = theirs if "digest" in theirs else await applied({})
        differing = sorted(
            int(b)
            for b in set(mine["digest"]) | set(theirs["digest"])
            if mine["digest"].get(b) != theirs["digest"].get(b)
        )
        found = {"buckets": differing} if differing else None
        return found, mine["streams"], theirs["streams"], len(differing)
    counts = mine["nodes"].get("", ["", 0])[1], theirs["nodes"].get("", ["", 0])[1]
    listed, deeper = split(mine["nodes"], theirs["nodes"])
    while deeper:
        below = {"nodes": deeper, "children": True}
        more, deeper = split((await sent(below))["nodes"], (await applied(below))["nodes"])
        listed += more
    return ({"list": listed} if listed else None), counts[0], counts[1], len(listed)
