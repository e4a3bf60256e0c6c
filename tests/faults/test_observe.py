"""The observer reads a real store the way the checker needs it, on SQLite as on PostgreSQL.

The member record and each year's assessment are separate aggregates; the checker matches
their facts to the history by the member's id. SQLite keeps originator ids as 32 hex digits,
PostgreSQL as UUIDs: read as they come, a member's own facts on SQLite (departure, employer,
what the host reported) were filed under another spelling than its assessments, and the poison
scenario showed 30 facts lost and 30 phantom where nothing was wrong.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from services.outflow.application import OutflowApplication
from shared.eventstore import eventsourcing_env, sqlalchemy_engine
from tests.faults.checker import Figures, check
from tests.faults.history import OK, History
from tests.faults.observe import observe_both
from tests.faults.places import HOST, ORIGIN
from tests.support.factories import departure_body, member_body

pytestmark = pytest.mark.faults


def store_url(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'o.db'}"
    return request.getfixturevalue("pg_database_url")


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_members_facts_across_aggregates_are_read_under_its_id(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = store_url(kind, tmp_path, request)
    sqlalchemy_engine(url).dispose()  # creates the PostgreSQL schema the store goes into
    app = OutflowApplication(env=eventsourcing_env(url), place=ORIGIN)
    body = member_body()
    member_id = app.register_member(**body, recorded_by="tester")
    departure = departure_body(HOST) | {"departed_on": date(2026, 3, 1)}
    app.record_departure(member_id, **departure, recorded_by="tester")
    app.evaluate_by_origin(member_id, 2001, grade="competent", comments="ok", recorded_by="tester")
    # A host's activity as the importer records it: on the member record, not an assessment.
    member = app.get_member(member_id)
    member.record_contact(
        kind="activity",
        on=date(2026, 4, 1),
        source=HOST,
        note="学习: a1.fault (党支部) #1",
        recorded_by=f"host:{HOST}",
        today=date(2026, 4, 2),
    )
    app.save(member)
    app.close()

    nowhere = f"sqlite:///{tmp_path / 'no-host.db'}"  # the host never received anything
    seen, sent = observe_both(url, nowhere)
    mid = str(member_id)
    assert sent["o2h"] == {mid: [("depart", "departure"), ("origin_eval", "2001")]}
    assert seen["h2o"] == {mid: [("activity", "a1.fault")]}

    # Against a history that acknowledged all three: the activity arrived; the departure and
    # the evaluation never reached the host, and must still be counted lost.
    history = History()
    for side, fact, key in (
        ("origin", "depart", "departure"),
        ("origin", "origin_eval", "2001"),
        ("host", "activity", "a1.fault"),
    ):
        history.complete(history.invoke(side, mid, fact, key), OK)
    figures = check(Figures("observe", 1), history, seen, sent)
    assert (figures.lost, figures.phantom, figures.order_violations) == (2, 0, 0), figures.notes
    assert sorted(note.split()[2] for note in figures.notes) == ["depart", "origin_eval"]
