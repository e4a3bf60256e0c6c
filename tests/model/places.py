"""One origin county and two host districts in one process, linked without a broker.

Each place is its real runtime (its bootstrap, its own SQLite event store, signing and sealing
keys, docs/security.md); only the transport is replaced. `send` does what the relay's `run_once`
does minus the JetStream publish: it reads the stored events after the relay's position, turns
them into signed envelopes and commits the position and per-member routes, so every fact is
sent exactly once, in per-member order. The envelopes then wait "on the wire" (`pending`) until
the test delivers them to the receiving place's `InboundProcessor`, in any order and as often
as it likes: a parked fact stays on the wire (JetStream redelivers it), a duplicate is dropped.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date
from functools import cache

from services.inflow.adapters.exports import exporter_for as inflow_exporter
from services.inflow.bootstrap import bootstrap as inflow_bootstrap
from services.outflow.adapters.exports import exporter_for as outflow_exporter
from services.outflow.bootstrap import bootstrap as outflow_bootstrap
from shared.messaging.receiver import APPLIED, DEAD, DUPLICATE, PARKED, Delivery, Outcome
from shared.messaging.topology import event_subject
from shared.runtime import PlaceRuntime
from shared.validation import make_resident_id
from tests.support.harness import exchange_keys, settings_for

ORIGIN = "371326"  # 平邑县
HOSTS = ("310115", "310112")  # 浦东新区, 闵行区
# The organisation each host's letters go to (the receipt must name the same one).
RECEIVING = {"310115": "中共上海市浦东新区委员会组织部", "310112": "中共上海市闵行区委员会组织部"}
# Never dialled: the runtimes are not started, the test carries the messages itself.
UNUSED_NATS = "nats://127.0.0.1:4222"


def _fast_dir() -> str | None:
    """Memory-backed when the machine has it: hundreds of small stores are made and dropped."""
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


@cache
def keys() -> dict[str, dict[str, str]]:
    """One set of signing and sealing keys for the whole run (generating them takes time)."""
    return exchange_keys({ORIGIN: "origin", **{host: "host" for host in HOSTS}})


def person(index: int) -> dict[str, str]:
    """A fixed cast: the same people across examples, so shrinking keeps them."""
    sequence = 2 * index + 1  # odd: men (GB 11643)
    return {
        "name": "王李张刘"[index] + "伟",
        "resident_id": make_resident_id(
            ORIGIN, date(1970 + index, index + 1, 10 + index), sequence
        ),
        "sex": "male",
        "phone": f"1390000000{index}",
        "origin_branch": f"平邑镇第{index + 1}村党支部",
        "household_address": f"山东省临沂市平邑县平邑镇{index + 1}号",
    }


@dataclass(frozen=True)
class Message:
    """One signed envelope on its way to `to_place`."""

    to_place: str
    subject: str
    raw: bytes
    event_id: str
    event_type: str
    stream: str
    seq: int
    prevseq: int

    def __repr__(self) -> str:  # what a failing example prints: short, no personal data
        kind = self.event_type.removeprefix("cn.liangdi.").removesuffix(".v1")
        return (
            f"<{kind} {self.event_id} to {self.to_place} member {self.stream[:8]} "
            f"seq {self.seq} after {self.prevseq}>"
        )


@dataclass
class DeadLetter:
    message: Message
    reason: str


@dataclass
class Places:
    folder: str = field(
        default_factory=lambda: tempfile.mkdtemp(prefix="liangdi-model-", dir=_fast_dir())
    )
    pending: list[Message] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    applied_twice: list[Message] = field(default_factory=list)
    unroutable: list[Message] = field(default_factory=list)
    history: list[tuple[Message, str, str]] = field(default_factory=list)
    sent: dict[str, list[tuple[str, str, str, str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.origin = self._runtime("outflow", ORIGIN)
        self.hosts = {host: self._runtime("inflow", host) for host in HOSTS}
        self.by_place: dict[str, PlaceRuntime] = {ORIGIN: self.origin, **self.hosts}
        self._applied: set[str] = set()
        self.deliveries = 0  # the stores may have changed since a reader last looked

    def _runtime(self, kind: str, place: str) -> PlaceRuntime:
        settings = settings_for(
            kind,
            f"sqlite:///{self.folder}/{kind}-{place}.db",
            UNUSED_NATS,
            place,
            sync_enabled=False,
            duty_interval_seconds=0,
            **keys()[place],
        )
        build = outflow_bootstrap if kind == "outflow" else inflow_bootstrap
        return build(settings)

    # --- the wire ------------------------------------------------------------------------

    def send(self) -> int:
        """Every place's relay sends what it has not sent yet. Returns the number of messages."""
        sent = 0
        for runtime in self.by_place.values():
            relay = runtime.relay
            while True:
                envelopes, last_id, moved, unsendable = relay._batch(relay.position)
                if last_id is None:
                    break
                assert not unsendable, f"{runtime.place} could not send {unsendable}"
                relay._commit(last_id, moved, {}, unsendable)
                for envelope in envelopes:
                    self.sent.setdefault(runtime.place, []).append(
                        (envelope.id, envelope.to_place, envelope.stream, envelope.type)
                    )
                    message = Message(
                        to_place=envelope.to_place,
                        subject=event_subject(
                            envelope.direction,
                            envelope.from_place,
                            envelope.to_place,
                            envelope.subject,
                        ),
                        raw=envelope.to_bytes(),
                        event_id=envelope.id,
                        event_type=envelope.type,
                        stream=envelope.stream,
                        seq=envelope.seq,
                        prevseq=envelope.prevseq,
                    )
                    if message.to_place in self.by_place:
                        self.pending.append(message)
                    else:
                        self.unroutable.append(message)
                    sent += 1
        return sent

    def duplicate(self, index: int) -> None:
        """A second copy of a message on the wire (a re-publish, a redelivery)."""
        self.pending.append(self.pending[index])

    def deliver(self, index: int) -> Outcome:
        message = self.pending[index]
        outcome = self.by_place[message.to_place].processor.process(
            message.raw, subject=message.subject
        )
        del self.pending[index]  # taken off the wire only once the receiver has decided
        return self._settle(message, outcome)

    def deliver_batch(self, indexes: list[int]) -> list[Outcome]:
        """The messages at `indexes` (in that order, a copy may repeat) that are addressed to the
        first one's place, decided in one batch as the agent hands a fetch to its receiver."""
        to_place = self.pending[indexes[0]].to_place
        picked = [i for i in indexes if self.pending[i].to_place == to_place]
        messages = [self.pending[i] for i in picked]
        processor = self.by_place[to_place].processor
        undone = processor.undone
        outcomes = processor.process_batch([Delivery(m.raw, subject=m.subject) for m in messages])
        # Nothing else writes here meanwhile: the batch must commit as decided, not fall back.
        assert processor.undone == undone, processor.last_undone_reason
        for index in sorted(set(picked), reverse=True):
            del self.pending[index]
        settled = []
        for message, outcome in zip(messages, outcomes, strict=True):
            assert isinstance(outcome, Outcome), f"{message}: {outcome!r}"
            settled.append(self._settle(message, outcome))
        return settled

    def _settle(self, message: Message, outcome: Outcome) -> Outcome:
        self.deliveries += 1
        self.history.append((message, outcome.result, outcome.reason))
        if outcome.result == PARKED:
            self.pending.append(message)  # JetStream redelivers it after a delay
        elif outcome.result == DEAD:
            # As the agent does: the dead letter is stored first, then the refused fact's
            # position (so the member's later facts flow on).
            self.dead.append(DeadLetter(message, outcome.reason))
            self.by_place[message.to_place].processor.settle(outcome)
        elif outcome.result == APPLIED:
            if message.event_id in self._applied:
                self.applied_twice.append(message)
            self._applied.add(message.event_id)
        else:
            assert outcome.result == DUPLICATE, outcome
        return outcome

    def deliver_all(self) -> None:
        """Until nothing is left to send or deliver. A message parked for good is a finding:
        its predecessor will never come, so the member's later facts never apply."""
        while self.send() or self.pending:
            progress = False
            for _ in range(len(self.pending)):
                progress |= self.deliver(0).result != PARKED
            if not progress:
                streams = {m.stream for m in self.pending}
                before = [h for h in self.history if h[0].stream in streams]
                raise AssertionError(
                    f"messages parked for good: {self.pending}; "
                    f"what came before on their streams: {before}"
                )

    def facts_of_whole_log(self, place: str) -> list[tuple[str, str, str, str]]:
        """What a relay reading every stored event of `place` would send, from the start: a
        fresh exporter without its `topics`, so no event is left unread."""
        runtime = self.by_place[place]
        export = (outflow_exporter if place == ORIGIN else inflow_exporter)(runtime.app)
        export.topics = ()  # type: ignore[attr-defined]
        facts = []
        for notification in runtime.app.recorder.select_notifications(start=1, limit=10**9):
            event = runtime.app.mapper.to_domain_event(notification)
            for index, out in enumerate(export(event)):
                event_id = f"{place}.{runtime.relay.service}.{notification.id}.{index}"
                facts.append((event_id, out.to_place, out.member_id, out.event.cloudevent_type()))
        return facts

    def close(self) -> None:
        for runtime in self.by_place.values():
            runtime.app.close()
            runtime.engine.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)
