"""The receiver's per-member rules on an embedded (SQLite) store, without a broker: a fact waits
for the earlier fact about the same member whatever aggregate it came from, the parked count is
per source, a refused fact is tracked only once its dead letter is stored, counters survive a new
process, and tracking positions read on SQLite (anti-entropy's "applied" side)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared.contracts.envelope import new_envelope
from shared.contracts.events import HostEvaluated
from shared.eventsourced import LiangdiApplication
from shared.eventstore import eventsourcing_env, sqlalchemy_engine
from shared.messaging.receiver import (
    APPLIED,
    DEAD,
    DUPLICATE,
    PARKED,
    InboundProcessor,
    InboundRejected,
)
from shared.positions import PositionStore

ORIGIN, HOST = "371326", "310115"


def message(seq: int, prevseq: int, member: str = "m-1", grade: str = "competent") -> bytes:
    fact = HostEvaluated(
        member_id=member,
        origin_place=ORIGIN,
        host_place=HOST,
        year=2026,
        grade=grade,
        attendance_count=1,
    )
    return new_envelope(
        event_id=f"{HOST}.inflow.{seq}.0",
        service="inflow",
        event=fact,
        member_id=member,
        from_place=HOST,
        to_place=ORIGIN,
        direction="h2o",
        stream=member,
        seq=seq,
        prevseq=prevseq,
    ).to_bytes()


class Store:
    def __init__(self, tmp_path: Path):
        url = f"sqlite:///{tmp_path / 'origin.db'}"
        self.app = LiangdiApplication(env=eventsourcing_env(url))
        self.positions = PositionStore(sqlalchemy_engine(url))
        self.seen: list[str] = []

    def processor(self, refuse: str = "") -> InboundProcessor:
        def importer(_envelope: Any, fact: Any) -> list[Any]:
            if fact.grade == refuse:
                raise InboundRejected("inbound.test", "refused for the test")
            self.seen.append(fact.grade)
            return []

        return InboundProcessor(
            app=self.app,
            importer=importer,
            place=ORIGIN,
            direction="h2o",
            trust=None,
            positions=self.positions,
        )


def test_a_later_fact_of_the_member_waits_for_the_earlier_one(tmp_path: Path) -> None:
    store = Store(tmp_path)
    processor = store.processor()
    # Notification 9 (say an evaluation) follows notification 5 (say the report) of member m-1.
    assert processor.process(message(9, 5, grade="excellent")).result == PARKED
    assert processor.status()["sources"][HOST]["parked_now"] == 1
    assert processor.process(message(7, 0, member="m-2")).result == APPLIED  # others flow on
    assert processor.status()["sources"][HOST]["parked_now"] == 1
    assert processor.process(message(5, 0)).result == APPLIED
    assert processor.process(message(9, 5, grade="excellent")).result == APPLIED
    assert processor.status()["sources"][HOST]["parked_now"] == 0
    assert store.seen == ["competent", "competent", "excellent"]
    assert store.app.positions_with_prefix(f"{HOST}:") == {f"{HOST}:m-1": 9, f"{HOST}:m-2": 7}
    assert store.app.positions_with_prefix("310112:") == {}


def test_counters_are_cumulative_across_processes(tmp_path: Path) -> None:
    store = Store(tmp_path)
    first = store.processor()
    for seq in (3, 4):
        first.process(message(seq, seq - 1 if seq > 3 else 0), stream_seq=seq + 100)
    assert first.process(message(4, 3)).result == DUPLICATE
    restarted = store.processor()
    source = restarted.status()["sources"][HOST]
    assert (source[APPLIED], source[DUPLICATE], source[DEAD]) == (2, 1, 0)
    assert source["last_stream_seq"] == 104 and source["last_applied_at"] is not None
    assert restarted.status()["counts"][APPLIED] == 2


def test_a_refused_fact_is_tracked_only_after_its_dead_letter(tmp_path: Path) -> None:
    store = Store(tmp_path)
    processor = store.processor(refuse="competent")
    processor.track_rejections_after_dead_letter = True  # as the agent sets it
    refused = processor.process(message(5, 0))
    assert refused.result == DEAD and refused.reason.startswith("rejected: inbound.test")
    assert store.app.position_of(f"{HOST}:m-1") == 0
    # The receiver died before the dead letter was stored: the redelivery is refused again,
    # not taken for a duplicate (which would drop it silently).
    again = processor.process(message(5, 0))
    assert again.result == DEAD and again.pending_tracking is not None
    processor.settle(again)
    assert store.app.position_of(f"{HOST}:m-1") == 5
    processor.settle(again)  # settling twice (a redelivery after a crash) changes nothing
    assert processor.process(message(9, 5, grade="excellent")).result == APPLIED
    assert processor.process(message(5, 0)).result == DUPLICATE


def test_a_new_leader_continues_the_counters_of_the_old_one(tmp_path: Path) -> None:
    store = Store(tmp_path)
    leader, standby = store.processor(), store.processor()
    for seq, prev in ((3, 0), (4, 3)):
        assert leader.process(message(seq, prev)).result == APPLIED
    assert standby.status()["sources"] == {}  # started before the leader applied anything
    standby.reload()  # what the agent does on taking over
    assert standby.process(message(5, 4)).result == APPLIED
    assert standby.status()["sources"][HOST][APPLIED] == 3
    # The old leader's late figures are added, never written over its successor's.
    assert leader.process(message(5, 4)).result == DUPLICATE
    source = store.processor().status()["sources"][HOST]
    assert (source[APPLIED], source[DUPLICATE]) == (3, 1)


def test_a_fact_out_of_the_contract_does_not_hold_up_the_member(tmp_path: Path) -> None:
    """An authentic fact the contract refuses (a value out of bounds) is dead-lettered in order
    and its position recorded: the member's later facts apply, they do not wait an hour."""
    store = Store(tmp_path)
    processor = store.processor()
    fact = HostEvaluated.model_construct(
        member_id="m-1", origin_place=ORIGIN, host_place=HOST, year=2026, grade="superb"
    )
    unreadable = new_envelope(
        event_id=f"{HOST}.inflow.4.0",
        service="inflow",
        event=fact,
        member_id="m-1",
        from_place=HOST,
        to_place=ORIGIN,
        direction="h2o",
        stream="m-1",
        seq=4,
        prevseq=0,
    ).to_bytes()
    outcome = processor.process(unreadable)
    assert outcome.result == DEAD and outcome.reason.startswith("schema:"), outcome.reason
    assert processor.process(message(9, 4)).result == APPLIED
    assert store.seen == ["competent"]
    # An operator's retry of it (still unreadable) is a dead letter again, never a duplicate.
    again = processor.process(unreadable, retry_of="dl-1", retry_class="schema")
    assert again.result == DEAD and again.reason.startswith("schema:")


def test_a_chain_started_afresh_applies_over_an_older_tracked_position(tmp_path: Path) -> None:
    """A peer upgraded from per-aggregate chains: this receiver tracked the member aggregate's
    version (5) under the member's key; the peer's first new fact starts a chain (prevseq 0)."""
    from eventsourcing.persistence import Tracking

    store = Store(tmp_path)
    store.app.save_tracked(Tracking(f"{HOST}:m-1", 5))
    processor = store.processor()
    assert processor.process(message(1234, 0)).result == APPLIED
    assert processor.process(message(1300, 1234, grade="excellent")).result == APPLIED
    assert processor.process(message(1234, 0)).result == DUPLICATE
    assert store.seen == ["competent", "excellent"]
