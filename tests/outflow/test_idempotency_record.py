"""The fund's idempotency record notes what a write produced, not an HTTP response; records stored
before (version 1: status code and response body) are still read and still answer a retry."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from services.outflow.application import (
    IdempotencyKeyReused,
    IdempotentRequest,
    Outcome,
    OutflowApplication,
)
from services.outflow.domain.fund import AssistanceFund, fund_id_for
from services.outflow.domain.idempotency import IdempotencyRecord, idempotency_id_for
from shared.eventstore import eventsourcing_env

ORIGIN = "371326"
TODAY = date(2026, 3, 10)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[OutflowApplication]:
    app = OutflowApplication(env=eventsourcing_env(f"sqlite:///{tmp_path / 'o.db'}"), place=ORIGIN)
    yield app
    app.close()


def contribute(app: OutflowApplication, request: IdempotentRequest, amount_fen: int) -> Outcome:
    return app.contribute(
        request,
        amount_fen=amount_fen,
        contributor="党费结余",
        received_on=date(2026, 3, 1),
        recorded_by="tester",
        today=TODAY,
    )


def test_a_retry_gets_the_record_as_the_write_left_it(app: OutflowApplication) -> None:
    first = contribute(app, IdempotentRequest("contrib-0001", "POST fund a"), 50_000)
    contribute(app, IdempotentRequest("contrib-0002", "POST fund b"), 20_000)
    again = contribute(app, IdempotentRequest("contrib-0001", "POST fund a"), 50_000)

    assert not first.replayed and again.replayed
    # The retry shows the fund just after the first write, not after the later one.
    assert isinstance(again.result, AssistanceFund)
    assert again.result.balance_fen == first.result.balance_fen == 50_000
    assert app.fund().balance_fen == 70_000
    record = app.repository.get(idempotency_id_for(ORIGIN, "contrib-0001"))
    assert (record.result_id, record.result_version) == (first.result.id, first.result.version)
    assert not {"body", "status_code"} & set(vars(record))
    with pytest.raises(IdempotencyKeyReused):
        contribute(app, IdempotentRequest("contrib-0001", "POST fund other"), 1)


def test_a_record_stored_with_a_response_body_still_answers_a_retry(
    app: OutflowApplication,
) -> None:
    contribute(app, IdempotentRequest("contrib-0001", "POST fund a"), 50_000)
    # A version-1 record as the service stored it before: the same event, with the HTTP status
    # and response body in place of the result's id and version, and no class version.
    new = app.recorder.select_events(idempotency_id_for(ORIGIN, "contrib-0001"))[0]
    state = app.mapper.transcoder.decode(new.state)
    for field in ("class_version", "result_id", "result_version"):
        state.pop(field)
    body = {"county": ORIGIN, "balance_fen": 50_000, "reserved_fen": 0, "available_fen": 50_000}
    old_id = idempotency_id_for(ORIGIN, "contrib-old1")
    state |= {"key": "contrib-old1", "fingerprint": "POST fund old", "status_code": 201}
    state["body"] = body | {"contributed_fen": 50_000, "paid_fen": 0}
    old = replace(new, originator_id=old_id, state=app.mapper.transcoder.encode(state))
    app.recorder.insert_events([old])

    record = app.repository.get(old_id)
    assert record.result_id == fund_id_for(ORIGIN) and record.result_version is None
    retried = contribute(app, IdempotentRequest("contrib-old1", "POST fund old"), 50_000)
    assert retried.replayed and retried.result.id == fund_id_for(ORIGIN)
    assert app.fund().balance_fen == 50_000  # answered, not applied a second time
    with pytest.raises(IdempotencyKeyReused):
        contribute(app, IdempotentRequest("contrib-old1", "POST fund changed"), 50_000)


def test_a_stored_application_body_names_the_application() -> None:
    application_id = uuid4()
    state = {"status_code": 200, "body": {"application_id": str(application_id), "status": "x"}}
    IdempotencyRecord.Recorded.upcast_v1_v2(state)
    assert state == {"result_id": application_id, "result_version": None}
    assert isinstance(state["result_id"], UUID)
