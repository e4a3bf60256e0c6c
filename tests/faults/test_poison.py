"""Scenario 6: poison. Values a store cannot hold sent to each place's API (money beyond any
column, NUL in names, 10**30 integers, far dates, huge text), and forged or broken wire facts
(malformed, unknown type, oversized, schema violations, bad or missing signature). Each place
keeps answering, restarts cleanly, refuses every one of them (a 4xx, or a dead letter with its
reason), stores nothing of them, and the honest traffic around them flows on untouched."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from services.inflow.domain.member import hosted_member_id
from tests.faults import poison, wire
from tests.faults.history import FAILED, OK, UNKNOWN
from tests.faults.observe import stored_marks
from tests.faults.places import HOST, ORIGIN
from tests.faults.scenario import Run

pytestmark = pytest.mark.faults
STORES = {"origin": "outflowapplication_events", "host": "inflowapplication_events"}


def refused(run: Run, place: str, method: str, path: str, body: object) -> str:
    """One poison request; logged as ok when refused with a 4xx, as it must be."""
    # Fund writes need an idempotency key; a 409 (a concurrent write) would hide the value.
    headers = {"Idempotency-Key": f"poison-{uuid.uuid4()}"}
    for _ in range(10):
        op = run.history.invoke(place, "", "poison", f"{method} {path[:60]}")
        try:
            response = run.ex.clients[place].request(method, path, json=body, headers=headers)
        except httpx.HTTPError as exc:
            run.history.complete(op, UNKNOWN, repr(exc))
            return f"{method} {path[:60]}: no answer"
        if response.status_code != 409:
            break
        run.history.complete(op, FAILED, response.text[:200])
    if 400 <= response.status_code < 500 and "error" in response.json():
        run.history.complete(op, OK, f"{response.status_code} {response.text[:200]}")
        return ""
    run.history.complete(op, FAILED, f"{response.status_code} {response.text[:200]}")
    return f"{method} {path[:60]}: {response.status_code} {response.text[:200]}"


def never_acknowledged(run: Run, when: str) -> list[str]:
    """Honest writes the places stopped accepting: a poisoned place answers errors for good."""
    acked = {(op.side, op.member, op.kind, op.key) for op in run.history.ops if op.status == OK}
    refused = {
        (op.side, op.member, op.kind, op.key): op.detail
        for op in run.history.ops
        if op.kind != "poison" and op.status != OK
    }
    return [
        f"{when}: honest {fact[2]} {fact[3]} never accepted: {detail[:150]}"
        for fact, detail in refused.items()
        if fact not in acked
    ][:10]


@pytest.mark.parametrize("stores", ["postgres", "sqlite"])
def test_poison_is_refused_reported_and_never_stored(
    stores: str, exchange_of, nats_server, tmp_path
) -> None:
    url = nats_server.url
    pairs = poison.keys()
    ex = exchange_of(url, sqlite=stores == "sqlite")
    for name, place in (("origin", ORIGIN), ("host", HOST)):
        ex.places[name].env |= poison.signing_env(pairs, place)
    ex.places["sync"].env["LIANGDI_TRUSTED_KEYS"] = poison.signing_env(pairs, HOST)[
        "LIANGDI_TRUSTED_KEYS"
    ]
    ex.start()
    run = Run(f"poison_{stores}", ex, tmp_path)
    members = run.workload.enrol(run.profile.members)
    run.converge(60)
    run.workload.run(members, 1)
    member = members[0]
    hosted = str(hosted_member_id(HOST, member))
    receiver = f"/admin/receivers/o2h/{HOST}"
    why = {"reason": "fault suite: an out-of-range replay"}
    assert ex.clients["sync"].post(f"{receiver}/pause", json=why).is_success
    problems = [refused(run, *request) for request in poison.api_requests(member, hosted)]
    assert ex.clients["sync"].post(f"{receiver}/resume", json=why).is_success
    messages = poison.wire_messages(member, pairs)
    run.forged_streams = poison.streams_of(raw for _, _, raw in messages)
    wire.publish_raw(
        url, [(subject, raw, f"poison-{uuid.uuid4()}") for _, subject, raw in messages]
    )
    run.workload.run(members, run.profile.rounds)  # honest traffic goes on around the poison

    def dead_letters() -> list[dict]:
        page = ex.clients["sync"].get("/admin/dead-letters", params={"limit": 200})
        return page.json().get("items", []) if page.is_success else []

    deadline = time.monotonic() + 20
    while len(letters := dead_letters()) < len(messages) and time.monotonic() < deadline:
        time.sleep(0.5)
    classes = sorted(letter.get("reason_class", "?") for letter in letters)
    print(f"dead letters: {len(letters)} of {len(messages)} poison messages, reasons: {classes}")
    for letter in letters:
        print(f"  {letter.get('reason', '')[:100]}")
    if len(letters) < len(messages):
        problems.append(f"only {len(letters)} of {len(messages)} poison messages dead-lettered")
    for what, expected in (("malformed", 4), ("signature", 2), ("schema", 7)):
        if classes.count(what) < expected:
            problems.append(f"{classes.count(what)} dead letters for {what}, {expected} sent")
    problems += never_acknowledged(run, "after the poison")
    # Each place restarts cleanly after all of it (a poisoned read model would stop it here).
    for name in ("origin", "host", "sync"):
        ex.kill(name)
        try:
            ex.start(name)
        except AssertionError as exc:
            problems.append(f"{name} does not start again: {str(exc)[-300:]}")
    run.workload.run(members, 1)
    problems += never_acknowledged(run, "after the restart")
    run.workload.evaluate_at_host(members)
    run.converge()
    run.finish()
    kept = {
        name: stored_marks(db, STORES[name], poison.MARK)
        for name, db in (("origin", ex.origin_db), ("host", ex.host_db))
    }
    print(f"poison kept in the stores: {kept}")
    assert not [p for p in problems if p], "\n".join(p for p in problems if p)
    assert kept == {"origin": 0, "host": 0}, f"poison stored: {kept}"
    run.assert_clean()
