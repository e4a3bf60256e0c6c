"""The published contract (docs/contracts: AsyncAPI 3 + a JSON Schema per wire event) is current,
and real messages, as a relay builds them, validate against it."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from shared.contracts import events as wire
from shared.contracts.envelope import H2O, O2H, new_envelope
from shared.contracts.registry import registered_types

REPO = Path(__file__).resolve().parents[2]
CONTRACTS = REPO / "docs/contracts"


def test_the_published_contract_is_current() -> None:
    check = subprocess.run(
        [sys.executable, "scripts/asyncapi.py", "--check"], cwd=REPO, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_every_wire_event_is_a_message_of_one_channel() -> None:
    document = json.loads((CONTRACTS / "asyncapi.json").read_text())
    assert document["asyncapi"] == "3.0.0"
    listed = [
        ref["$ref"].rsplit("/", 1)[1]
        for channel in ("o2hFacts", "h2oFacts")
        for ref in document["channels"][channel]["messages"].values()
    ]
    expected = {
        f"{s.name}.v{s.version}".replace(".", "_")
        for s in registered_types().values()
        if s.__module__.startswith("shared.contracts.")  # not those other tests register
    }
    assert sorted(listed) == sorted(expected)  # each exactly once, in one direction
    for operation in document["operations"].values():
        assert operation["channel"]["$ref"].removeprefix("#/channels/") in document["channels"]


def _validator(message_key: str) -> Draft202012Validator:
    document = json.loads((CONTRACTS / "asyncapi.json").read_text())
    payload = document["components"]["messages"][message_key]["payload"]
    resources = [
        (f"schemas/{path.name}", Resource.from_contents(json.loads(path.read_text())))
        for path in (CONTRACTS / "schemas").glob("*.json")
    ]
    return Draft202012Validator(payload, registry=Registry().with_resources(resources))


def _message(event: wire.WireEvent, direction: str) -> dict:
    raw = new_envelope(
        event_id="371326.outflow.7.0",
        service="outflow" if direction == O2H else "inflow",
        event=event,
        member_id="m-1",
        from_place="371326" if direction == O2H else "310115",
        to_place="310115" if direction == O2H else "371326",
        direction=direction,
        stream="m-1",
        seq=7,
        prevseq=3,
    ).to_bytes()
    return json.loads(raw)


def test_real_messages_validate_and_a_wrong_one_does_not() -> None:
    ids = {"member_id": "m-1", "origin_place": "371326", "host_place": "310115"}
    reviewed = wire.AssessmentJointlyReviewed(
        **ids, year=2026, agreed_grade="competent", reviewed_on=date(2026, 11, 20)
    )
    moved = wire.MemberMovedAway(**ids, to_host_place="310112", moved_on=date(2026, 9, 1))
    evaluated = wire.HostEvaluated(**ids, year=2026, grade="excellent", attendance_count=3)
    for event, direction in ((reviewed, O2H), (moved, O2H), (evaluated, H2O)):
        key = f"{event.name}.v{event.version}".replace(".", "_")
        message = _message(event, direction)
        errors = list(_validator(key).iter_errors(message))
        assert errors == [], (key, [e.message for e in errors])

    wrong = _message(reviewed, O2H)
    wrong["data"]["agreed_grade"] = "superb"
    wrong["liangdiprevseq"] = -1
    problems = {
        e.json_path for e in _validator("assessment_jointly_reviewed_v1").iter_errors(wrong)
    }
    assert "$.liangdiprevseq" in problems
    assert any(p.startswith("$.data") for p in problems), problems
