"""Scenario 6: poison. Values a store cannot hold sent to each place's API (money beyond any
column, NUL in names, 10**30 integers, far dates, huge text), and forged or broken wire facts
(malformed, unknown type, oversized, schema violations, bad or missing signature). Each place
keeps answering, restarts cleanly, refuses every one of them (a 4xx, or a dead letter with its
reason), stores nothing of them, and the honest traffic around them flows on untouched."""

from __future__ import annotations

import httpx
import pytest

from services.inflow.domain.member import hosted_member_id
from tests.faults import poison, wire
from tests.faults.history import FAILED, OK, UNKNOWN
from tests.faults.observe import stored_marks
from tests.faults.places import HOST, ORIGIN
from tests.faults.scenario import Run
from tests.support.harness import wait_until

pytestmark = pytest.mark.faults
STORES = {"origin": "outflowapplication_events", "host": "inflowapplication_events"}


def refused(run: Run, place: str, method: str, path: str, body: object) -> str:
    """One poison request; logged as ok when refused with a 4xx, as it must be."""
    op = run.history.invoke(place, "", "poison", f"{method} {path[:60]}")
    try:
        response = run.ex.clients[place].request(method, path, json=body)
    except httpx.HTTPError as exc:
        run.history.complete(op, UNKNOWN, repr(exc))
        return f"{method} {path[:60]}: no answer"
    if 400 <= response.status_code < 500 and "error" in response.json():
        run.history.complete(op, OK, f"{response.status_code} {response.text[:200]}")
        return ""
    run.history.complete(op, FAILED, f"{response.status_code} {response.text[:200]}")
    return f"{method} {path[:60]}: {response.status_code} {response.text[:200]}"


def test_poison_is_refused_reported_and_never_stored(exchange_of, nats_server, tmp_path) -> None:
    url = nats_server.url
    pairs = poison.keys()
    ex = exchange_of(url)
    for name, place in (("origin", ORIGIN), ("host", HOST)):
        ex.places[name].env |= poison.signing_env(pairs, place)
    ex.places["sync"].env["LIANGDI_TRUSTED_KEYS"] = poison.signing_env(pairs, HOST)[
        "LIANGDI_TRUSTED_KEYS"
    ]
    ex.start()
    run = Run("poison", ex, tmp_path)
    members = run.workload.enrol(run.profile.members)
    run.converge(60)
    run.workload.run(members, 1)
    member = members[0]
    hosted = str(hosted_member_id(HOST, member))
    problems = [refused(run, *request) for request in poison.api_requests(member, hosted)]
    messages = poison.wire_messages(member, pairs[ORIGIN][0])
    wire.publish_raw(url, [(subject, raw, msg_id) for _, subject, raw, msg_id in messages])
    run.workload.run(members, run.profile.rounds)  # honest traffic goes on around the poison

    def dead_letters() -> list[dict]:
        page = ex.clients["sync"].get("/admin/dead-letters", params={"limit": 200})
        return page.json().get("items", []) if page.is_success else []

    letters = wait_until(
        lambda: len(dead_letters()) >= len(messages) and dead_letters(),
        timeout=30,
        message=f"{len(messages)} poison messages in the dead letters (found {dead_letters()})",
    )
    reasons = sorted({letter.get("reason_class", "?") for letter in letters})
    print(f"dead letters: {len(letters)}, reasons: {reasons}")
    for what, _, _, _ in messages:
        expected = {"malformed": "malformed", "bad_signature": "signature", "unsigned": "signature"}
        if what in expected:
            assert expected[what] in reasons, f"{what} not reported as {expected[what]}: {reasons}"
    assert "schema" in reasons, reasons
    # Each place restarts cleanly after all of it (a poisoned read model would stop it here).
    for name in ("origin", "host", "sync"):
        ex.kill(name)
    ex.start()
    run.workload.run(members, 1)
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
