"""A fact from the other place that collides with a local write to the same aggregate is applied
to fresh state, never mistaken for a duplicate and dropped (a real bug: the demo lost a host
evaluation that arrived while the origin recorded its own)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from eventsourcing.domain import Aggregate, event

from shared.contracts.envelope import new_envelope
from shared.contracts.events import HostEvaluated
from shared.eventsourced import LiangdiApplication
from shared.eventstore import eventsourcing_env
from shared.messaging.receiver import APPLIED, DUPLICATE, InboundProcessor

ASSESSMENT_ID = uuid5(NAMESPACE_URL, "test-assessment")


class Assessment(Aggregate):
    @staticmethod
    def create_id() -> Any:
        return ASSESSMENT_ID

    @event("Opened")
    def __init__(self) -> None:
        self.grades: list[str] = []

    @event("Graded")
    def grade(self, side: str, grade: str) -> None:
        self.grades.append(f"{side}:{grade}")


def _message(seq: int = 9, prevseq: int = 0, member: str = "m-1") -> bytes:
    fact = HostEvaluated(
        member_id="m-1",
        origin_place="371326",
        host_place="310115",
        year=2026,
        grade="competent",
        attendance_count=3,
    )
    return new_envelope(
        event_id=f"310115.inflow.{seq}.0",
        service="inflow",
        event=fact,
        member_id=member,
        from_place="310115",
        to_place="371326",
        direction="h2o",
        stream=member,  # the member is the stream; seq is the sender's notification id
        seq=seq,
        prevseq=prevseq,
    ).to_bytes()


def test_inbound_fact_racing_a_local_write_is_applied_not_dropped(tmp_path: Path) -> None:
    app = LiangdiApplication(env=eventsourcing_env(f"sqlite:///{tmp_path / 'o.db'}"))
    app.save(Assessment())
    raced = {"done": False}

    def importer(_envelope: Any, fact: Any) -> list[Any]:
        assessment = app.repository.get(ASSESSMENT_ID)
        if not raced["done"]:
            # The origin's operator records their own grade between our read and our save.
            raced["done"] = True
            local = app.repository.get(ASSESSMENT_ID)
            local.grade("origin", "competent")
            app.save(local)
        assessment.grade("host", fact.grade)
        return [assessment]

    processor = InboundProcessor(
        app=app, importer=importer, place="371326", direction="h2o", trust=None
    )
    outcome = processor.process(_message())
    assert outcome.result == APPLIED, outcome.reason
    assert app.repository.get(ASSESSMENT_ID).grades == ["origin:competent", "host:competent"]
    assert app.position_of("310115:m-1") == 9
    assert processor.process(_message()).result == DUPLICATE
    assert app.repository.get(ASSESSMENT_ID).grades == ["origin:competent", "host:competent"]


def test_a_genuine_message_replayed_on_another_subject_is_refused(tmp_path: Path) -> None:
    app = LiangdiApplication(env=eventsourcing_env(f"sqlite:///{tmp_path / 'o.db'}"))
    processor = InboundProcessor(
        app=app, importer=lambda _e, _f: [], place="371326", direction="h2o", trust=None
    )
    replayed = processor.process(_message(), subject="liangdi.ev.h2o.310112.371326.m-1")
    assert replayed.result == "dead_letter"
    assert "arrived on liangdi.ev.h2o.310112.371326.m-1" in replayed.reason
    assert app.position_of("310115:m-1") == 0
    routed = processor.process(_message(), subject="liangdi.ev.h2o.310115.371326.m-1")
    assert routed.result == APPLIED, routed.reason
