"""The receiver's batch path (shared/messaging/batch.py): a fetched batch decided in one
transaction must give each message the outcome one message after another would give.

Driven through the real places of tests/model/places.py (the host on SQLite, and on PostgreSQL
where the position and absence queries take their other path).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from services.inflow.adapters.tables import members
from services.inflow.bootstrap import bootstrap
from shared.messaging.receiver import Delivery, InboundRejected
from shared.messaging.tally import APPLIED, DEAD, DUPLICATE, PARKED, Outcome
from shared.validation import make_resident_id
from shared.validation.bounds import china_today
from tests.model.places import HOSTS, ORIGIN, UNUSED_NATS, Message, Places, keys
from tests.support.harness import settings_for

HOST = HOSTS[0]
QUIET = {"sync_enabled": False, "duty_interval_seconds": 0}  # as places.py: no loops run
DEPARTURE = {"host_place": HOST, "employer": "上海建工集团", "host_address": "上海市某路1号"}


class PgHostPlaces(Places):
    """The host HOST on PostgreSQL (its own schema); the other places stay on SQLite."""

    pg_url = ""

    def _runtime(self, kind: str, place: str) -> Any:
        if kind != "inflow" or place != HOST:
            return super()._runtime(kind, place)
        config = settings_for(kind, self.pg_url, UNUSED_NATS, place, **QUIET, **keys()[place])
        return bootstrap(config)


@pytest.fixture(params=["sqlite", "postgres"])
def places(request: pytest.FixtureRequest) -> Iterator[Places]:
    if request.param == "postgres":
        PgHostPlaces.pg_url = request.getfixturevalue("pg_database_url")
        found: Places = PgHostPlaces()
    else:
        found = Places()
    yield found
    found.close()


def someone(index: int) -> dict[str, str]:
    """More people than places.person's four: a batch of many members."""
    return {
        "name": "王李张刘陈杨赵黄周吴"[index % 10] + "明华"[index // 10 % 2],
        "resident_id": make_resident_id(ORIGIN, date(1970 + index, 1, 10), 2 * index + 1),
        "sex": "male",
        "phone": f"139000001{index:02d}",
        "origin_branch": "平邑镇第1村党支部",
        "household_address": "山东省临沂市平邑县平邑镇1号",
    }


def depart(places: Places, count: int) -> list[UUID]:
    origin = places.origin.app
    ids = []
    for index in range(count):
        member_id = origin.register_member(**someone(index), recorded_by="origin")
        departed_on = china_today() - timedelta(days=60)
        origin.record_departure(
            member_id, **DEPARTURE, reason="务工", expected_months=8, departed_on=departed_on,
            recorded_by="origin",
        )  # fmt: skip
        ids.append(member_id)
    return ids


def correct(places: Places, member_id: UUID, **changes: str) -> None:
    places.origin.app.correct_details(member_id, changes=changes, recorded_by="origin")


def wire(places: Places, member_id: UUID) -> list[Message]:
    """The member's messages to HOST on the wire, in their sending order."""
    places.send()
    found = [m for m in places.pending if m.stream == str(member_id) and m.to_place == HOST]
    return sorted(found, key=lambda m: m.seq)


def decide(places: Places, messages: list[Message], undone: int = 0) -> list[Any]:
    """One batch as the agent hands it over; settled as the agent does (dead letter stored,
    then the refused fact's position), parked ones left on the wire. The batch must have been
    decided again one at a time `undone` times (else it committed as decided)."""
    processor = places.hosts[HOST].processor
    before = processor.undone
    outcomes = processor.process_batch([Delivery(m.raw, subject=m.subject) for m in messages])
    assert processor.undone - before == undone, processor.last_undone_reason
    for message in messages:
        if message in places.pending:
            places.pending.remove(message)
    for message, outcome in zip(messages, outcomes, strict=True):
        if isinstance(outcome, Outcome):
            places._settle(message, outcome)
        else:
            places.pending.append(message)  # naked: redelivered later
    return outcomes


def results(outcomes: list[Any]) -> list[str]:
    return [o.result if isinstance(o, Outcome) else type(o).__name__ for o in outcomes]


def position(places: Places, member_id: UUID) -> int:
    return places.hosts[HOST].app.position_of(f"{ORIGIN}:{member_id}")


def record(places: Places, member_id: UUID) -> Any:
    return places.hosts[HOST].app.find_by_origin_member(str(member_id))


def test_many_departures_apply_in_one_transaction(places: Places, monkeypatch: Any) -> None:
    ids = depart(places, 12)
    messages = [m for i in ids for m in wire(places, i)]
    host = places.hosts[HOST]
    inserts: list[int] = []  # one insert of events with trackings: one transaction
    insert = host.app.recorder.insert_events
    monkeypatch.setattr(
        host.app.recorder, "insert_events", lambda *a, **k: inserts.append(1) or insert(*a, **k)
    )
    assert results(decide(places, messages)) == [APPLIED] * 12
    assert inserts == [1]
    names = [f"{ORIGIN}:{m.stream}" for m in messages]
    assert host.app.positions_of(names) == {f"{ORIGIN}:{m.stream}": m.seq for m in messages}
    host.read_models.catch_up()
    with host.engine.connect() as conn:
        rows = conn.execute(sa.select(members.c.origin_member_id, members.c.status)).all()
    assert sorted(r.origin_member_id for r in rows) == sorted(str(i) for i in ids)
    assert {r.status for r in rows} == {"expected"}
    # Redelivered whole (a crash before the acks): every one a duplicate, nothing twice.
    assert results(decide(places, messages)) == [DUPLICATE] * 12
    assert not places.applied_twice


def test_same_member_facts_apply_in_order_and_a_copy_is_a_duplicate(places: Places) -> None:
    (member_id,) = depart(places, 1)
    correct(places, member_id, phone="13912345678")
    year = china_today().year
    places.origin.app.evaluate_by_origin(
        member_id, year, grade="competent", comments="", recorded_by="origin"
    )
    departed, corrected, evaluated = wire(places, member_id)
    batch = [departed, corrected, departed, evaluated, corrected]
    assert results(decide(places, batch)) == [APPLIED, APPLIED, DUPLICATE, APPLIED, DUPLICATE]
    found = record(places, member_id)
    assert found.phone == "13912345678"  # the correction saw the departure's new record
    evaluation = places.hosts[HOST].app.evaluation_for(found, year)
    assert evaluation.version > 1  # the evaluation found the member the same batch created
    assert position(places, member_id) == evaluated.seq
    assert not places.applied_twice


def test_a_message_without_its_predecessor_parks_while_others_apply(places: Places) -> None:
    first, second = depart(places, 2)
    correct(places, first, phone="13912345678")
    departed, corrected = wire(places, first)
    (other,) = wire(places, second)
    assert results(decide(places, [corrected, other])) == [PARKED, APPLIED]
    assert position(places, first) == 0 and record(places, first) is None
    assert position(places, second) == other.seq
    # In batch order: a fact before its predecessor parks even if the predecessor follows.
    assert results(decide(places, [corrected, departed])) == [PARKED, APPLIED]
    assert results(decide(places, [corrected, other])) == [APPLIED, DUPLICATE]
    assert record(places, first).phone == "13912345678"


def refuse(processor: Any, message: Message, monkeypatch: Any, error: Any = None) -> None:
    """The importer changes the batch's copy of the record, then the domain says no (or
    something unexpected happens: `error`)."""
    importer = processor.importer

    def refusing(envelope: Any, event: Any) -> list[Any]:
        changed = importer(envelope, event)
        if envelope.id == message.event_id:
            raise error or InboundRejected("inbound.test", "refused for the test")
        return changed

    refusing.lookups = importer.lookups  # type: ignore[attr-defined]
    monkeypatch.setattr(processor, "importer", refusing)


def test_a_refused_fact_holds_back_only_its_member_until_settled(
    places: Places, monkeypatch: Any
) -> None:
    first, second = depart(places, 2)
    correct(places, first, employer="被拒绝的单位")
    correct(places, first, phone="13912345678")
    departed, refused, later = wire(places, first)
    (other,) = wire(places, second)
    processor = places.hosts[HOST].processor
    assert processor.track_rejections_after_dead_letter  # the agent's mode (PlaceAgent sets it)
    refuse(processor, refused, monkeypatch)
    batch = [departed, refused, other, later]
    outcomes = processor.process_batch([Delivery(m.raw, subject=m.subject) for m in batch])
    assert results(outcomes) == [APPLIED, DEAD, APPLIED, PARKED]
    assert processor.undone == 0, processor.last_undone_reason
    assert getattr(outcomes[1].pending_tracking, "notification_id", None) == refused.seq
    assert position(places, first) == departed.seq  # not past the unsettled refusal
    assert position(places, second) == other.seq
    assert record(places, first).employer == "上海建工集团"  # the refused change left no trace
    processor.settle(outcomes[1])
    assert position(places, first) == refused.seq
    assert results(decide(places, [later])) == [APPLIED]
    assert record(places, first).phone == "13912345678"
    assert record(places, first).employer == "上海建工集团"


def test_a_refused_fact_tracked_at_once_leaves_no_trace_for_later_facts(
    places: Places, monkeypatch: Any
) -> None:
    """Without the agent (refusals tracked with the batch): the member's later fact applies in
    the same batch, on the record as it was before the refused change."""
    (member_id,) = depart(places, 1)
    correct(places, member_id, employer="被拒绝的单位")
    correct(places, member_id, phone="13912345678")
    departed, refused, later = wire(places, member_id)
    processor = places.hosts[HOST].processor
    monkeypatch.setattr(processor, "track_rejections_after_dead_letter", False)
    refuse(processor, refused, monkeypatch)
    outcomes = decide(places, [departed, refused, later])
    assert results(outcomes) == [APPLIED, DEAD, APPLIED]
    assert outcomes[1].pending_tracking is None
    assert position(places, member_id) == later.seq
    found = record(places, member_id)
    assert (found.phone, found.employer) == ("13912345678", "上海建工集团")


@pytest.mark.parametrize("undone", [0, 1])
def test_a_copy_of_a_refused_fact_is_dead_lettered_once(
    places: Places, monkeypatch: Any, undone: int
) -> None:
    """A re-published copy in the same fetch as a refused fact: one after another (the agent
    settling each), the copy finds the refusal tracked and is a duplicate. A second dead letter
    would be a second retry id, so an operator's retries would apply the fact twice."""
    (member_id,) = depart(places, 1)
    correct(places, member_id, employer="被拒绝的单位")
    departed, refused = wire(places, member_id)
    processor = places.hosts[HOST].processor
    refuse(processor, refused, monkeypatch)
    if undone:  # the batch decided again one at a time (a database hiccup)
        looked_up = processor.app.positions_and_absent
        fail = iter([True])
        monkeypatch.setattr(
            processor.app,
            "positions_and_absent",
            lambda names, ids: looked_up(names, ids) if not next(fail, False) else 1 / 0,
        )
    outcomes = decide(places, [departed, refused, refused], undone=undone)
    assert results(outcomes)[:2] == [APPLIED, DEAD]
    assert results(outcomes)[2] in (DUPLICATE, PARKED), outcomes[2].reason
    places.deliver_all()  # a parked copy comes back once the refusal is settled
    assert [d.message for d in places.dead] == [refused]
    assert position(places, member_id) == refused.seq


def test_a_local_write_racing_the_batch_undoes_it_and_loses_nothing(
    places: Places, monkeypatch: Any
) -> None:
    first, second, third = depart(places, 3)
    (departed,) = wire(places, first)
    assert results(decide(places, [departed])) == [APPLIED]
    correct(places, first, phone="13912345678")
    (corrected,) = wire(places, first)
    others = [m for i in (second, third) for m in wire(places, i)]
    host = places.hosts[HOST]
    held = record(places, first)
    save_many = host.app.save_tracked_many

    def racing(*args: Any) -> Any:
        if not raced:
            raced.append(True)  # the host's operator records the report meanwhile
            day = china_today() - timedelta(days=1)
            number = held.certificate_no
            host.app.record_report(held.id, certificate_no=number, reported_on=day, recorded_by="h")
        return save_many(*args)

    raced: list[bool] = []
    monkeypatch.setattr(host.app, "save_tracked_many", racing)
    batch = [corrected, *others, corrected]
    assert results(decide(places, batch, undone=1)) == [APPLIED, APPLIED, APPLIED, DUPLICATE]
    assert host.processor.last_undone_reason.startswith(("RecordConflict", "IntegrityError"))
    after = record(places, first)
    assert (after.status, after.phone) == ("reported", "13912345678")  # both writes kept
    assert position(places, first) == corrected.seq
    assert all(position(places, UUID(m.stream)) == m.seq for m in others)
    assert results(decide(places, batch)) == [DUPLICATE] * 4
    assert not places.applied_twice


def test_another_copy_applied_meanwhile_makes_the_batch_fact_a_duplicate(
    places: Places, monkeypatch: Any
) -> None:
    first, second = depart(places, 2)
    (copied,) = wire(places, first)
    (other,) = wire(places, second)
    host = places.hosts[HOST]
    save_many = host.app.save_tracked_many
    raced: list[Outcome] = []

    def racing(*args: Any) -> Any:
        if not raced:  # another instance (or redelivery) applies the same message first
            raced.append(host.processor.process(copied.raw, subject=copied.subject))
        return save_many(*args)

    monkeypatch.setattr(host.app, "save_tracked_many", racing)
    assert results(decide(places, [copied, other], undone=1)) == [DUPLICATE, APPLIED]
    assert results(raced) == [APPLIED]
    assert position(places, first) == copied.seq and position(places, second) == other.seq


def test_an_unexpected_error_holds_back_only_its_message(places: Places, monkeypatch: Any) -> None:
    ids = depart(places, 3)
    batch = [m for i in ids for m in wire(places, i)]
    processor = places.hosts[HOST].processor
    importer = processor.importer
    refuse(processor, batch[1], monkeypatch, RuntimeError("a bug"))
    outcomes = decide(places, batch, undone=1)
    assert results(outcomes) == [APPLIED, "RuntimeError", APPLIED]
    assert [position(places, i) for i in ids] == [batch[0].seq, 0, batch[2].seq]
    assert batch[1] in places.pending  # naked, comes back
    monkeypatch.setattr(processor, "importer", importer)
    assert results(decide(places, [batch[1], batch[0]])) == [APPLIED, DUPLICATE]


def test_counters_follow_a_batch(places: Places) -> None:
    ids = depart(places, 4)
    messages = [m for i in ids for m in wire(places, i)]
    processor = places.hosts[HOST].processor
    assert results(decide(places, [*messages, messages[0], messages[2]])) == (
        [APPLIED] * 4 + [DUPLICATE] * 2
    )
    source = processor.status()["sources"][ORIGIN]
    assert (source[APPLIED], source[DUPLICATE], source[DEAD]) == (4, 2, 0)
    assert processor.links is not None
    stored = processor.links.load_counts(processor.counter_name)[ORIGIN]
    assert (stored.get(APPLIED), stored.get(DUPLICATE), stored.get(DEAD, 0)) == (4, 2, 0)


# --- batches against one message at a time ------------------------------------------------


@pytest.fixture(scope="module")
def sent() -> Iterator[list[Message]]:
    """Three members' departure, two corrections and an evaluation each, signed once."""
    places = Places()
    ids = depart(places, 3)
    for index, member_id in enumerate(ids):
        correct(places, member_id, phone=f"1391234560{index}")
        correct(places, member_id, employer=f"单位{index}")
        places.origin.app.evaluate_by_origin(
            member_id, china_today().year, grade="competent", comments="", recorded_by="origin"
        )
    yield [m for i in ids for m in wire(places, i)]
    places.close()


def _final(processor: Any, messages: list[Message], outcomes: list[Any]) -> tuple[Any, ...]:
    applied = sorted(m.event_id for m, o in zip(messages, outcomes, strict=True) if o == APPLIED)
    return processor.app.positions_with_prefix(f"{ORIGIN}:"), applied


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_batches_decide_as_one_message_after_another(sent: list[Message], data: Any) -> None:
    order = data.draw(st.lists(st.sampled_from(sent), min_size=1, max_size=30), label="order")
    # Where the fetches end: a batch of one goes the one-at-a-time path, as in the agent.
    cuts = sorted(data.draw(st.sets(st.integers(1, max(len(order) - 1, 1))), label="cuts"))
    cuts = [cut for cut in cuts if cut < len(order)]
    one_by_one, batched = Places(), Places()  # the same keys: both trust the sender
    try:
        alone = one_by_one.hosts[HOST].processor
        singles = [alone.process(m.raw, subject=m.subject).result for m in order]
        together = batched.hosts[HOST].processor
        batches: list[Any] = []
        for start, end in zip([0, *cuts], [*cuts, len(order)], strict=True):
            chunk = order[start:end]
            outcomes = together.process_batch([Delivery(m.raw, subject=m.subject) for m in chunk])
            batches += [o.result for o in outcomes]  # an exception here fails the test
        assert batches == singles
        assert together.undone == 0, together.last_undone_reason
        final = _final(alone, order, singles)
        assert _final(together, order, batches) == final
        assert len(final[1]) == len(set(final[1]))  # no event id applied twice
    finally:
        one_by_one.close()
        batched.close()
