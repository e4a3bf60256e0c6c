"""A write whose commit happened but whose answer was lost with the database session.

The event store's recorder writes again when its session is lost mid-write (eventsourcing's
`@retry` on `insert_events`); the second write meets the first one's events. The command
happened: its caller must get its 2xx, not a 409 for a conflict with itself, and the events
must be stored once. A real conflict with another writer must still be refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, OperationalError

from tests.outflow.conftest import Api
from tests.support.harness import running


class LosingAcks:
    """Fault injection in the event store's PostgreSQL recorder: after `count` writes have
    committed, their connections fail as a lost session does, before the answer is read."""

    def __init__(self, recorder: Any):
        self.recorder, self.count, self.lost = recorder, 0, 0
        self._writing: set[int] = set()
        datastore = recorder.datastore
        real_get = datastore.get_connection

        def writing(real: Callable[..., Any]) -> Callable[..., Any]:
            def insert(curs: Any, *args: Any, **kwargs: Any) -> Any:
                self._writing.add(id(curs.connection))
                return real(curs, *args, **kwargs)

            return insert

        @contextmanager
        def get_connection(*args: Any, **kwargs: Any) -> Iterator[Any]:
            with real_get(*args, **kwargs) as conn:
                yield conn
            wrote = id(conn) in self._writing
            self._writing.discard(id(conn))
            if wrote and self.count > 0:
                self.count -= 1
                self.lost += 1
                # As the datastore translates psycopg's error for the library's `@retry`.
                lost = psycopg.OperationalError("server closed the connection unexpectedly")
                raise OperationalError(lost) from lost

        # Both ways events go in: with trackings (a fact), and in one call (a command).
        recorder._insert_stored_events = writing(recorder._insert_stored_events)
        recorder._insert_in_one_call = writing(recorder._insert_in_one_call)
        datastore.get_connection = get_connection


@pytest.fixture
def origin(
    outflow_settings: Callable[..., Any], writer: dict[str, str]
) -> Iterator[tuple[Api, Any]]:
    with running("outflow", outflow_settings()) as client:
        yield Api(client, writer), client.app.state.runtime.app


def stored_versions(app: Any, member_id: str) -> list[int]:
    return [e.originator_version for e in app.recorder.select_events(UUID(member_id))]


def correct_phone(api: Api, member_id: str, phone: str) -> int:
    r = api.c.patch(f"/api/v1/members/{member_id}", json={"phone": phone}, headers=api.h)
    return r.status_code


def test_a_command_whose_commit_answer_was_lost_succeeds_once(origin: tuple[Api, Any]) -> None:
    api, app = origin
    member_id = api.register()
    faults = LosingAcks(app.recorder)
    faults.count = 1
    assert correct_phone(api, member_id, "13900000001") == 200
    assert faults.lost == 1, "the fault must really have been injected"
    assert app.get_member(UUID(member_id)).phone == "13900000001"
    assert stored_versions(app, member_id) == [1, 2]  # registered, then corrected once


def test_saves_sharing_a_lost_commit_each_succeed(origin: tuple[Api, Any]) -> None:
    api, app = origin
    members = [api.register() for _ in range(12)]
    faults = LosingAcks(app.recorder)
    faults.count = 2
    phones = [f"139000002{index:02d}" for index in range(len(members))]
    with ThreadPoolExecutor(12) as pool:
        codes = list(pool.map(lambda m, p: correct_phone(api, m, p), members, phones))
    assert faults.lost == 2
    assert codes == [200] * len(members)
    for member_id, phone in zip(members, phones, strict=True):
        assert app.get_member(UUID(member_id)).phone == phone
        assert stored_versions(app, member_id) == [1, 2]


def test_a_conflict_with_another_writer_is_still_refused(origin: tuple[Api, Any]) -> None:
    api, app = origin
    member_id = api.register()
    one, other = app.get_member(UUID(member_id)), app.get_member(UUID(member_id))
    one.correct_details(changes={"phone": "13900000004"}, recorded_by="one")
    other.correct_details(changes={"phone": "13900000005"}, recorded_by="other")
    app.save(one)
    with pytest.raises(IntegrityError):
        app.save(other)
    assert app.get_member(UUID(member_id)).phone == "13900000004"
    # And a lost answer does not turn the other writer's conflict into a success.
    again = app.get_member(UUID(member_id))
    late = app.get_member(UUID(member_id))
    again.correct_details(changes={"phone": "13900000006"}, recorded_by="again")
    late.correct_details(changes={"phone": "13900000007"}, recorded_by="late")
    faults = LosingAcks(app.recorder)
    faults.count = 1
    app.save(again)
    assert faults.lost == 1
    with pytest.raises(IntegrityError):
        app.save(late)
