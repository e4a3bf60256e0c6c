"""The event store's insert by columns (shared/batch_tracking.py) keeps the library's contract:
ids in the order of the events, every byte of every state, one batch all or nothing, and a
version already taken refused as the library refuses it.
"""

from __future__ import annotations

import uuid

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent, Tracking
from eventsourcing.utils import Environment
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.batch_tracking import PostgresBatchProcessRecorder
from shared.eventstore import NamedPostgresFactory, eventsourcing_env, sqlalchemy_engine


@pytest.fixture
def recorder(pg_database_url: str) -> PostgresBatchProcessRecorder:
    sqlalchemy_engine(pg_database_url).dispose()  # creates the test's schema
    env = eventsourcing_env(pg_database_url) | {"CREATE_TABLE": "y"}
    found = NamedPostgresFactory(Environment("columns", env)).process_recorder()
    assert isinstance(found, PostgresBatchProcessRecorder)
    return found


events = st.lists(
    st.tuples(st.integers(1, 2**62), st.text(max_size=40), st.binary(max_size=300)),
    min_size=1,
    max_size=30,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=events)
def test_a_batch_comes_back_as_it_went_in(
    recorder: PostgresBatchProcessRecorder, batch: list[tuple[int, str, bytes]]
) -> None:
    head = recorder.max_notification_id() or 0
    stored = [
        StoredEvent(uuid.uuid4(), version, topic.replace("\x00", ""), state)
        for version, topic, state in batch
    ]
    ids = recorder.insert_events(stored)
    assert ids is not None and len(ids) == len(stored)
    assert ids == sorted(ids) and ids[0] > head
    back = recorder.select_notifications(start=head, limit=100, inclusive_of_start=False)
    assert [n.id for n in back] == ids
    assert [(n.originator_id, n.originator_version, n.topic, n.state) for n in back] == [
        (e.originator_id, e.originator_version, e.topic, e.state) for e in stored
    ]


def test_a_version_taken_refuses_the_whole_batch_and_its_positions(
    recorder: PostgresBatchProcessRecorder,
) -> None:
    member = uuid.uuid4()
    recorder.insert_events([StoredEvent(member, 1, "t", b"first")])
    head = recorder.max_notification_id()
    fresh = StoredEvent(uuid.uuid4(), 1, "t", b"fresh")
    with pytest.raises(IntegrityError):
        recorder.insert_events(
            [fresh, StoredEvent(member, 1, "t", b"again")],
            trackings=[Tracking("o/stream-a", 3), Tracking("o/stream-b", 4)],
        )
    assert recorder.max_notification_id() == head
    assert recorder.select_events(fresh.originator_id) == []
    assert recorder.max_tracking_id("o/stream-a") is None
