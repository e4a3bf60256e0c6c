"""The relay reads only its exporter's topics (`exported_notifications`), on SQLite and
PostgreSQL: interleaved with writes, in batches of any size, the reads yield exactly the
exported events, each once and in order, and the position they record passes over the rest."""

from __future__ import annotations

from typing import Any

import pytest
from eventsourcing.domain import Aggregate, event
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.eventsourced import LiangdiApplication
from shared.eventstore import eventsourcing_env
from shared.messaging.relay import exported_notifications, exported_topics
from tests.support.backends import each_store


class Ledger(Aggregate):
    @event("Opened")
    def __init__(self) -> None:
        self.lines = 0

    @event("Kept")  # stays at home
    def keep(self) -> None:
        self.lines += 1

    @event("Told")  # the other place hears of it
    def tell(self) -> None:
        self.lines += 1


class Branch(Ledger):
    """A subclass stores its base's events under its own name."""


class LedgerApp(LiangdiApplication):
    pass


def export(domain_event: Any) -> list[Any]:
    return [domain_event] if isinstance(domain_event, Ledger.Told) else []


export.topics = exported_topics(Ledger.Told)  # type: ignore[attr-defined]


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    app = LedgerApp(env=eventsourcing_env(each_store(request, tmp_path_factory, "topics")))
    yield app
    app.close()


def test_the_topics_of_an_event_class_include_its_subclasses() -> None:
    assert exported_topics(Ledger.Told) == (
        "tests.unit.test_relay_topics:Branch.Told",
        "tests.unit.test_relay_topics:Ledger.Told",
    )


# Each step: ("keep" | "tell", on the branch?) written, or a read of the log in batches.
STEPS = st.lists(
    st.one_of(st.tuples(st.sampled_from(["keep", "tell"]), st.booleans()), st.just("read")),
    max_size=40,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=STEPS, batch=st.integers(1, 4), stop_early=st.booleans())
def test_reads_yield_every_exported_event_once_in_order(
    app: Any, steps: list[Any], batch: int, stop_early: bool
) -> None:
    ledger, branch = Ledger(), Branch()
    app.save(ledger, branch)
    position, read = app.recorder.max_notification_id() or 0, []
    start = position

    def read_all(stop: int | None = None) -> int:
        at = position
        while True:
            notifications, read_to = exported_notifications(app, export, at, batch, stop)
            if read_to is None:
                return at
            assert read_to > at and all(at < n.id <= read_to for n in notifications)
            read.extend(n.id for n in notifications)
            at = read_to

    for step in [*steps, "read"]:
        if step == "read":
            head = app.recorder.max_notification_id()
            # A reader told to stop earlier (anti-entropy up to the relay's position) stops there.
            stop = max(position, head - 1) if stop_early and head > position else None
            position = read_all(stop)
            assert position == (stop if stop is not None else head)
            continue
        what, on_branch = step
        aggregate = branch if on_branch else ledger
        getattr(aggregate, what)()
        app.save(aggregate)
    position = read_all()
    told = [
        n.id
        for n in app.recorder.select_notifications(
            start=start, limit=1000, inclusive_of_start=False
        )
        if n.topic.endswith(".Told")
    ]
    assert read == told
    assert position == app.recorder.max_notification_id()


def test_without_topics_every_event_is_read(app: Any) -> None:
    ledger = Ledger()
    ledger.keep()
    ledger.tell()
    app.save(ledger)
    notifications, read_to = exported_notifications(app, lambda e: [], 0, 10)
    assert [n.topic.rsplit(".", 1)[1] for n in notifications] == ["Opened", "Kept", "Told"]
    assert read_to == notifications[-1].id
