"""The anti-entropy exchange at the issue's size, in-process: the real code on synthetic positions.

Filling 100,000 members through the services takes hours here (each one is two commands at the
origin and one applied fact at the host), so the benchmark runs the exchange itself at that size
without NATS: the sync service's comparison (`descend`, the per-stream diff and the settle's
second look at the receiver) asks a real `AntiEntropyResponder` whose two position tables are
given (sender: what it published per member; receiver: what it applied, one member behind).
Each request and reply is sized as on the wire (`wirecount.message_bytes`: subject, reply
subject, the bearer token's header, the same compact JSON); the re-send's request and answer
are sized without running it, and the re-sent fact counts at the size measured in the real run.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from types import SimpleNamespace
from typing import Any

from bench.wirecount import message_bytes
from services.sync.adapters.antientropy import descend
from shared.messaging.antientropy import AntiEntropyResponder, answers_subject, antientropy_subject
from shared.security.tokens import Role, issue_token

TOKEN = "0123456789abcdef0123456789abcdef"  # the sync service's token per question (a uuid4's hex)


def reply_to(service: str, place: str) -> str:
    return f"{answers_subject(service, place)}.{TOKEN}"


class GivenPositions:
    """Stands in for the sender's index and the receiver's tracking records."""

    def __init__(self, sent: dict[str, int], applied: dict[str, int]):
        self._sent, self._applied = sent, applied
        self.routes: dict[str, Any] = {"peer": {}}  # each place sends to one other place

    def refresh(self) -> None:
        pass

    def sent(self, peer: str) -> dict[str, int]:
        return self._sent

    def positions_with_prefix(self, prefix: str) -> dict[str, int]:
        return {f"{prefix}{stream}": seq for stream, seq in self._applied.items()}


def responder(sent: dict[str, int], applied: dict[str, int]) -> AntiEntropyResponder:
    """A place's anti-entropy responder over given positions (no store, no NATS)."""
    table = GivenPositions(sent, applied)
    place = AntiEntropyResponder(SimpleNamespace(app=table))
    place.index = table  # type: ignore[assignment]
    return place


def simulate(members: int, fact_bytes: int, origin: str, host: str) -> int:
    """Bytes of a repair run over a link of `members` streams where the receiver lacks a fact."""
    sent = {str(uuid.UUID(int=n + 1)): 2 * n + 2 for n in range(members)}
    applied = dict(sent)
    lost = next(iter(applied))
    applied[lost] -= 1
    place = responder(sent, applied)
    token = issue_token("x" * 32, role=Role.SYNC_ADMIN, place="*", subject="sync-antientropy")
    headers = {"Authorization": f"Bearer {token}"}
    total = 0

    async def ask(service: str, where: str, request: dict[str, Any]) -> dict[str, Any]:
        nonlocal total
        body = json.dumps(request, separators=(",", ":")).encode()
        answer = await place.answer(request)
        reply = reply_to(service, where)
        total += message_bytes(antientropy_subject(service, where), reply, headers, body)
        total += message_bytes(reply, "", None, json.dumps(answer, separators=(",", ":")).encode())
        return answer

    async def exchange() -> None:
        async def sent_side(request: dict[str, Any]) -> dict[str, Any]:
            return await ask("outflow", origin, {"op": "sent", "peer": host, **request})

        async def applied_side(request: dict[str, Any]) -> dict[str, Any]:
            return await ask("inflow", host, {"op": "applied", "peer": origin, **request})

        await ask("outflow", origin, {"op": "peers"})
        await ask("inflow", host, {"op": "peers"})
        selector = (await descend(sent_side, applied_side))[0]
        assert selector is not None
        ours, theirs = await sent_side(selector), await applied_side(selector)
        assert ours["streams"][lost] > theirs["streams"][lost]
        await applied_side(selector)  # the second look after the settle
        resend = {"op": "resend", "peer": host, "stream": lost, "after": 1, "run": "0123456789ab"}
        body = json.dumps(resend, separators=(",", ":")).encode()
        nonlocal total  # the re-send's request and its answer (`{"resent":1}`), not run here
        reply = reply_to("outflow", origin)
        total += message_bytes(antientropy_subject("outflow", origin), reply, headers, body)
        total += message_bytes(reply, "", None, b'{"resent":1}')

    asyncio.run(exchange())
    return total + fact_bytes
