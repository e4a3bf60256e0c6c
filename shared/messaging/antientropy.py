"""Anti-entropy, the place's half: digests of what this place sent and applied, and re-sends.

The sync service asks (a question on `liangdi.ae.<service>.<place>`, bearer token of a sync admin
in the `Authorization` header, answered on a subject of the place's own, `answers_subject`) and
compares the two ends of each link:
- sent to D: per stream (the member), the last seq (the sender's notification id) of the facts
  its relay has published to D — from the event store and the exporter, up to the relay's
  recorded position;
- applied from P: per stream, the receiver's tracking record `<P>:<member>`.
Both sides count in the sender's notification ids, so equal means in step. Answers carry only
member ids, sequence numbers and hashes: never personal data. A request with `nodes` asks for
digests of the tree of `shared/messaging/aetree.py` (an agreeing link costs one root digest per
side), one with `list` for the positions under some of its nodes. A request with neither is the
first protocol (64 fixed buckets, `digest`/`buckets`), still answered for a sync service of the
previous release.

A re-send publishes a stream's facts after seq N again with the same CloudEvents id and a new
`Nats-Msg-Id` (`<id>.resend.<run>`), so JetStream's duplicate window does not swallow it and the
receiver's tracking drops whatever it had applied already. Nothing is ever overwritten.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import threading
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg

from shared.messaging.aetree import KEY_HEX, nodes, streams_under
from shared.messaging.connection import connect, nats_access
from shared.messaging.relay import Exporter, Outbound, exported_notifications
from shared.messaging.topology import event_subject
from shared.security.tokens import InvalidToken, Role, read_token

log = logging.getLogger(__name__)
DEFAULT_BUCKETS = 64
MAX_PREFIXES = 4096  # far above a real descent (16 per differing node): a bound, not a limit


def antientropy_subject(service: str, place: str) -> str:
    return f"liangdi.ae.{service}.{place}"


def answers_subject(service: str, place: str) -> str:
    """Where a place answers: `<this>.<token>`, a token per question, the asker listening there.

    A subject of the place's own, which its NATS user may publish to. Answering on the asker's
    inbox would need `allow_responses`, under which nats-server also records the reply subject
    of every JetStream delivery to the place and, past 4,096 of them, walks them all at each
    delivery: a catch-up got slower with every fact (docs/performance.md, "Ninth pass")."""
    return f"liangdi.ae.answers.{service}.{place}"


def bucket_of(stream: str, buckets: int) -> int:
    return int.from_bytes(hashlib.sha256(stream.encode()).digest()[:4], "big") % buckets


def digest(positions: dict[str, int], buckets: int) -> dict[str, str]:
    """One hash per non-empty bucket over its sorted `stream:seq` lines."""
    lines: dict[int, list[str]] = {}
    for stream, seq in positions.items():
        lines.setdefault(bucket_of(stream, buckets), []).append(f"{stream}:{seq}")
    return {
        str(bucket): hashlib.sha256("\n".join(sorted(items)).encode()).hexdigest()[:32]
        for bucket, items in lines.items()
    }


def in_buckets(positions: dict[str, int], wanted: list[int], buckets: int) -> dict[str, int]:
    chosen = set(wanted)
    return {s: q for s, q in positions.items() if bucket_of(s, buckets) in chosen}


class SentIndex:
    """Per destination and member, the facts the relay has published: (seq, notification, index),
    where seq is the notification id (the relay's `liangdiseq`).

    Built once from the notification log and extended incrementally, up to the relay's recorded
    position (what lies beyond it is backlog, not a gap).
    """

    def __init__(self, runtime: Any, exporter: Exporter | None = None):
        self.rt = runtime
        # An exporter of its own, not the relay's: an exporter keeps the aggregates it reads and
        # moves them on with each event, so it serves one thread at a time.
        self.exporter = exporter
        self.cursor = 0
        self.routes: dict[str, dict[str, list[tuple[int, int, int]]]] = {}
        self._lock = threading.Lock()

    def facts_of(self, event: Any) -> list[Outbound]:
        assert self.exporter is not None
        with self._lock:
            return self.exporter(event)

    def refresh(self) -> None:
        with self._lock:
            limit = self.rt.positions.get(self.rt.relay.name)
            app, exporter = self.rt.app, self.exporter
            assert exporter is not None
            while self.cursor < limit:
                batch, read_to = exported_notifications(app, exporter, self.cursor, 500, stop=limit)
                if read_to is None:
                    break
                for notification in batch:
                    event = app.mapper.to_domain_event(notification)
                    for index, out in enumerate(exporter(event)):
                        self.routes.setdefault(out.to_place, {}).setdefault(
                            out.member_id, []
                        ).append((notification.id, notification.id, index))
                self.cursor = read_to

    def sent(self, peer: str) -> dict[str, int]:
        self.refresh()
        return {stream: facts[-1][0] for stream, facts in self.routes.get(peer, {}).items()}


def applied_positions(runtime: Any, peer: str) -> dict[str, int]:
    """The receiver's tracking records for facts from `peer`: member -> last applied seq."""
    tracked = runtime.app.positions_with_prefix(f"{peer}:")
    return {name.partition(":")[2]: seq for name, seq in tracked.items()}


def _prefixes(given: Any) -> list[str]:
    """Tree nodes as asked: hex prefixes of the key's length at most."""
    if not isinstance(given, list) or len(given) > MAX_PREFIXES:
        raise ValueError("nodes: a list of at most 4096 prefixes")
    for prefix in given:
        if not isinstance(prefix, str) or len(prefix) > KEY_HEX or prefix.strip("0123456789abcdef"):
            raise ValueError("nodes: hex prefixes")
    return given


class AntiEntropyResponder:
    """Answers the sync service's anti-entropy requests for one place service."""

    def __init__(self, runtime: Any, exporter: Exporter | None = None):
        self.rt = runtime
        self.index = SentIndex(runtime, exporter)
        self.nc: Client | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._connect(), name="antientropy")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self.nc is not None and not self.nc.is_closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.nc.close(), timeout=5)

    async def _connect(self) -> None:
        while self.nc is None:
            try:
                nc = await connect(
                    nats_access(self.rt.settings),
                    name=f"liangdi-antientropy-{self.rt.service}-{self.rt.place}",
                    owner=self.rt.place,
                )
                subject = antientropy_subject(self.rt.service, self.rt.place)
                # A queue group: of several instances of one place, one answers.
                await nc.subscribe(subject, queue="antientropy", cb=self._on_request)
                self.nc = nc
            except Exception as exc:
                log.warning("anti-entropy responder: %s; retrying", exc)
                await asyncio.sleep(2.0)

    async def _on_request(self, msg: Msg) -> None:
        own = answers_subject(self.rt.service, self.rt.place) + "."
        if not (msg.reply or "").startswith(own):
            # This place's NATS user may answer nowhere else (a sync service of an earlier
            # release asks with its inbox as the reply subject: docs/security.md).
            log.warning("anti-entropy question not answered: reply subject not under %s", own)
            return
        try:
            principal = read_token(
                self.rt.jwt_secret,
                (msg.headers or {}).get("Authorization", "").removeprefix("Bearer "),
            )
            if principal.role != Role.SYNC_ADMIN:
                raise InvalidToken(f"role {principal.role} may not ask for anti-entropy")
            answer = await self.answer(json.loads(msg.data))
        except InvalidToken as exc:
            answer = {"error": {"code": "auth.forbidden", "message": str(exc)}}
        except Exception as exc:
            log.exception("anti-entropy request failed")
            answer = {"error": {"code": "antientropy.failed", "message": type(exc).__name__}}
        # Not `msg.respond`: nats-py's echoes the request's headers, the bearer token with them.
        if self.nc is not None:
            await self.nc.publish(msg.reply, json.dumps(answer, separators=(",", ":")).encode())

    async def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        op, peer = request["op"], str(request.get("peer", ""))
        buckets = int(request.get("of", DEFAULT_BUCKETS))
        if op == "peers":
            await asyncio.to_thread(self.index.refresh)
            return {"sent_to": sorted(self.index.routes)}
        if op == "resend":
            return {
                "resent": await self.resend(
                    peer, request["stream"], int(request["after"]), str(request["run"])
                )
            }
        if op in ("sent", "applied"):
            if op == "sent":
                positions = await asyncio.to_thread(self.index.sent, peer)
            else:
                positions = await asyncio.to_thread(applied_positions, self.rt, peer)
            if "nodes" in request:
                wanted = _prefixes(request["nodes"])
                return {"nodes": nodes(positions, wanted, bool(request.get("children")))}
            if "list" in request:
                return {"streams": streams_under(positions, _prefixes(request["list"]))}
            if "buckets" in request:
                return {"streams": in_buckets(positions, request["buckets"], buckets)}
            return {"digest": digest(positions, buckets), "streams": len(positions)}
        return {"error": {"code": "antientropy.unknown_op", "message": op}}

    async def resend(self, peer: str, stream: str, after: int, run: str) -> int:
        facts = list(self.index.routes.get(peer, {}).get(stream, []))
        envelopes, previous = [], 0
        for seq, notification_id, index in facts:
            if seq > after:
                envelopes.append(
                    await asyncio.to_thread(self._envelope, peer, notification_id, index, previous)
                )
            previous = seq
        assert self.nc is not None
        js = self.nc.jetstream(timeout=10)
        for envelope in envelopes:
            subject = event_subject(
                envelope.direction, envelope.from_place, envelope.to_place, envelope.subject
            )
            await js.publish(
                subject, envelope.to_bytes(), headers={"Nats-Msg-Id": f"{envelope.id}.resend.{run}"}
            )
        return len(envelopes)

    def _envelope(self, peer: str, notification_id: int, index: int, prevseq: int) -> Any:
        app, relay = self.rt.app, self.rt.relay
        notification = app.recorder.select_notifications(start=notification_id, limit=1)[0]
        event = app.mapper.to_domain_event(notification)
        out = self.index.facts_of(event)[index]
        # Built, sealed and signed by the relay itself: the same CloudEvents id and contents, so
        # a receiver that holds the fact already sees a copy.
        return relay._envelope(notification_id, index, event, out, prevseq)
