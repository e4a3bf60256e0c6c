"""Races (two service instances on one PostgreSQL schema), restarts and history as of a date."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from eventsourcing.persistence import RecordConflictError

from services.outflow.application.history import CHINA
from services.outflow.bootstrap import bootstrap
from tests.outflow.conftest import Api, error_code
from tests.outflow.test_fund import apply_for, contribute, eligible_member
from tests.support.harness import running

APPROVAL, PAY = {"approved_on": "2026-03-03"}, {"paid_on": "2026-03-20"}


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Runs the calls in threads released together; returns their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_two_approvals_racing_for_the_last_money_only_one_wins(
    outflow_settings: Callable[..., Any], writer: dict[str, str]
) -> None:
    settings = outflow_settings()
    with running("outflow", settings) as one, running("outflow", settings) as two:
        a, b = Api(one, writer, seed=3), Api(two, writer, seed=4)
        for round_no in range(3):
            contribute(a, 10_000)
            ids = []
            for api in (a, b):
                app_id = apply_for(api, eligible_member(api), 10_000).json()["application_id"]
                api.fund_post(f"/applications/{app_id}/review", {})
                ids.append(app_id)
            results = race(
                lambda x=ids[0]: a.fund_post(f"/applications/{x}/approval", APPROVAL),
                lambda x=ids[1]: b.fund_post(f"/applications/{x}/approval", APPROVAL),
            )
            codes = sorted(r.status_code for r in results)
            assert codes == [200, 422], [r.text for r in results]
            loser = next(r for r in results if r.status_code == 422)
            assert error_code(loser) == "fund.insufficient"
            winner = next(i for i, r in zip(ids, results, strict=True) if r.status_code == 200)
            a.fund_post(f"/applications/{winner}/notice", {"notice_from": "2026-03-04"})
            paid = race(
                lambda x=winner: a.fund_post(f"/applications/{x}/disbursement", PAY),
                lambda x=winner: b.fund_post(f"/applications/{x}/disbursement", PAY),
            )
            assert sorted(r.status_code for r in paid) == [200, 409], [r.text for r in paid]
            fund = a.c.get("/api/v1/fund", headers=writer).json()
            assert fund["balance_fen"] == 0 and fund["reserved_fen"] == 0, (round_no, fund)
        ledger = a.c.get("/api/v1/fund/ledger", headers=writer).json()
        assert [e["kind"] for e in ledger].count("disbursement") == 3
        assert min(e["balance_after_fen"] for e in ledger) >= 0


def test_same_idempotency_key_racing_pays_once(
    outflow_settings: Callable[..., Any], writer: dict[str, str]
) -> None:
    settings = outflow_settings()
    with running("outflow", settings) as one, running("outflow", settings) as two:
        a, b = Api(one, writer, seed=5), Api(two, writer, seed=6)
        body = {"amount_fen": 777, "contributor": "x", "received_on": "2026-03-01"}
        results = race(
            *(
                (lambda api=api: api.fund_post("/contributions", body, key="same-key-racing"))
                for api in (a, b, a, b)
            )
        )
        assert {r.status_code for r in results} == {201}, [r.text for r in results]
        assert len({r.text for r in results}) == 1
        assert a.c.get("/api/v1/fund", headers=writer).json()["balance_fen"] == 777


def test_concurrent_departures_get_distinct_consecutive_certificates(
    outflow_settings: Callable[..., Any], writer: dict[str, str]
) -> None:
    settings = outflow_settings()
    with running("outflow", settings) as one, running("outflow", settings) as two:
        apis = [Api(one, writer, seed=7), Api(two, writer, seed=8)]
        members = [(api, api.register()) for api in apis for _ in range(4)]
        results = race(*((lambda api=api, m=m: api.depart(m)) for api, m in members))
        assert all(r.status_code == 201 for r in results), [r.text for r in results]
        numbers = sorted(r.json()["certificate_no"] for r in results)
        assert numbers == [f"371326-{n:06d}" for n in range(1, 9)]


def test_instances_taking_turns_number_on_from_each_other(
    outflow_settings: Callable[..., Any], writer: dict[str, str]
) -> None:
    """Each instance keeps the register as it last saved it; the other's issues since make
    that copy stale, and the next issue must number on from the store, without a gap."""
    settings = outflow_settings()
    with running("outflow", settings) as one, running("outflow", settings) as two:
        apis = [Api(one, writer, seed=11), Api(two, writer, seed=12)]
        order = [0, 0, 1, 0, 1, 1, 0, 1, 0]
        numbers, departed = [], []
        for turn in order:
            departed.append(apis[turn].register())
            r = apis[turn].depart(departed[-1])
            assert r.status_code == 201, r.text
            numbers.append(r.json()["certificate_no"])
        # A reissue takes a number from the same register, at the instance that did not issue
        # the last one.
        reissued = apis[1].c.post(
            f"/api/v1/members/{departed[-1]}/certificate/reissue",
            json={"reason": "lost", "reissued_on": "2026-03-03"},
            headers=writer,
        )
        assert reissued.status_code == 200, reissued.text
        numbers.append(reissued.json()["number"])
        order.append(1)
        assert numbers == [f"371326-{n:06d}" for n in range(1, len(order) + 1)]


def test_concurrent_edits_of_one_member_one_wins_the_other_gets_409(
    outflow_settings: Callable[..., Any], writer: dict[str, str]
) -> None:
    settings = outflow_settings()
    with running("outflow", settings) as one, running("outflow", settings) as two:
        a, b = Api(one, writer, seed=9), Api(two, writer, seed=10)
        member_id = a.register()
        statuses = []
        for i in range(10):
            results = race(
                lambda i=i: a.c.patch(
                    f"/api/v1/members/{member_id}", json={"name": f"甲{i}"}, headers=writer
                ),
                lambda i=i: b.c.patch(
                    f"/api/v1/members/{member_id}", json={"name": f"乙{i}"}, headers=writer
                ),
            )
            for r in results:
                assert r.status_code in (200, 409), r.text
                if r.status_code == 409:
                    assert error_code(r) == "conflict.concurrent_update"
            statuses += [r.status_code for r in results]
        timeline = a.c.get(f"/api/v1/members/{member_id}/timeline", headers=writer).json()
        corrections = [e for e in timeline if e["type"] == "DetailsCorrected"]
        assert len(corrections) == statuses.count(200)  # every 200 was kept, no 409 was
        assert 409 in statuses  # the races really overlapped (every round does, in practice)


def test_a_stale_edit_is_refused_not_overwritten(outflow_settings: Callable[..., Any]) -> None:
    """The deterministic half of the race above: the loser's save raises the conflict that the
    shared handler turns into 409 (the application does not swallow it)."""
    rt = bootstrap(outflow_settings())
    try:
        from tests.support.factories import member_body

        member_id = rt.app.register_member(**member_body(), recorded_by="t")
        first, second = rt.app.get_member(member_id), rt.app.get_member(member_id)
        first.correct_details(changes={"name": "甲"}, recorded_by="t")
        second.correct_details(changes={"name": "乙"}, recorded_by="t")
        rt.app.save(first)
        try:
            rt.app.save(second)
        except RecordConflictError:
            pass
        else:
            raise AssertionError("a stale save must conflict")
        assert rt.app.get_member(member_id).name == "甲"
    finally:
        rt.app.close()
        rt.engine.dispose()


def test_restart_loses_nothing_and_does_not_replay_the_projection(
    outflow_settings: Callable[..., Any], writer: dict[str, str]
) -> None:
    settings = outflow_settings()
    with running("outflow", settings) as c:
        api = Api(c, writer, seed=11)
        member_id = api.departed(on="2026-01-10")
        api.c.post(
            f"/api/v1/members/{member_id}/contacts",
            json={"kind": "dues", "on": "2026-02-01"},
            headers=writer,
        )
        contribute(api, 1_234)
        before = c.get("/api/v1/status/read-models", headers=writer).json()
        assert before["position"] == before["head"] > 0
        row_before = api.member(member_id)
    with running("outflow", settings) as c:
        after = c.get("/api/v1/status/read-models", headers=writer).json()
        assert after["position"] == before["position"]  # kept, not rebuilt from 0
        assert after["handled_since_start"] == 0
        api = Api(c, writer, seed=12)
        assert api.member(member_id) == row_before
        assert c.get("/api/v1/fund", headers=writer).json()["balance_fen"] == 1_234
        r = api.depart(api.register())
        assert r.json()["certificate_no"] == "371326-000002"  # numbering continues
        now = c.get("/api/v1/status/read-models", headers=writer).json()
        assert now["handled_since_start"] == 3  # registered, departed, certificate issued


def beijing_today() -> str:
    """`as-of?on=` reads a day in Beijing time: the machine's UTC date is a day behind it
    between 16:00 and 24:00 UTC, when a record made now lies after the end of "today"."""
    return datetime.now(CHINA).date().isoformat()


def test_state_as_of_a_past_date(api: Api) -> None:
    member_id = api.departed()
    between = api.c.get(f"/api/v1/members/{member_id}", headers=api.h).json()["updated_at"]
    old_employer = api.c.get(
        f"/api/v1/members/{member_id}/as-of", params={"at": between}, headers=api.h
    )
    api.c.patch(f"/api/v1/members/{member_id}", json={"employer": "新公司"}, headers=api.h)
    today = beijing_today()
    now = api.c.get(f"/api/v1/members/{member_id}/as-of?on={today}", headers=api.h).json()
    assert now["employer"] == "新公司" and now["status"] == "departed" and now["version"] == 3
    assert "*" in now["resident_id_masked"]
    old = api.c.get(
        f"/api/v1/members/{member_id}/as-of", params={"at": between}, headers=api.h
    ).json()
    assert old["version"] == 2 and old["employer"] == old_employer.json()["employer"]
    assert old["employer"] != "新公司"
    before = api.c.get(f"/api/v1/members/{member_id}/as-of?on=2020-01-01", headers=api.h)
    assert before.status_code == 404 and error_code(before) == "member.not_found"


def test_long_histories_cross_the_snapshot_interval(
    outflow_settings: Callable[..., Any], writer: dict[str, str]
) -> None:
    """60 events on one member (snapshot every 50): state, history and restart stay right."""
    settings = outflow_settings()
    with running("outflow", settings) as c:
        api = Api(c, writer, seed=13)
        member_id = api.departed(on="2026-01-10")
        r = api.c.post(
            f"/api/v1/members/{member_id}/transfer-letters",
            json={"receiving_organisation": "张江", "issued_on": "2026-11-01"},
            headers=writer,
        )
        letter_no = r.json()["letter_no"]
        for day in range(1, 58):
            on = date(2026, 2, 1).toordinal() + day
            r = api.c.post(
                f"/api/v1/members/{member_id}/contacts",
                json={"kind": "activity", "on": date.fromordinal(on).isoformat()},
                headers=writer,
            )
            assert r.status_code == 200, r.text
    with running("outflow", settings) as c:
        api = Api(c, writer, seed=14)
        row = api.member(member_id)
        assert row["version"] == 60 and row["last_contact_on"] == "2026-03-30"
        assert row["letter_no"] == letter_no and row["letter_state"] == "issued"
        today = beijing_today()
        now = c.get(f"/api/v1/members/{member_id}/as-of?on={today}", headers=writer).json()
        assert now["version"] == 60 and now["letters"][0]["valid_until"] == "2027-01-30"
        r = api.c.post(
            f"/api/v1/members/{member_id}/transfer-letters/{letter_no}/void",
            json={"reason": "after the snapshot"},
            headers=writer,
        )
        assert r.status_code == 200 and r.json()["state"] == "void"


def test_departures_queued_for_the_register_are_decided_together_each_with_its_answer(
    outflow_settings: Callable[..., Any], writer: dict[str, str]
) -> None:
    """Departures that wait for the register's turn are decided in one turn and saved in one
    transaction. Each caller still gets its own answer: a refusal (an unknown member, a member
    departing twice in the same turn, a date in the future) takes no number and does not
    stop the others, and the numbers given run on without a gap."""
    with running("outflow", outflow_settings()) as c:
        api = Api(c, writer, seed=21)
        given: list[str] = []
        for round_no in range(3):
            members = [api.register() for _ in range(12)]
            calls = [lambda m=m: api.depart(m) for m in members]
            calls += [lambda m=members[0]: api.depart(m)]  # the same member, twice at once
            calls += [lambda: api.depart("6f0e5a3c-0000-4000-8000-000000000000")]
            calls += [lambda m=members[1]: api.depart(m, on="2099-01-01")]
            results = race(*calls)
            ok = [r for r in results if r.status_code == 201]
            refused = [r for r in results if r.status_code != 201]
            assert len(ok) == 12 and len(refused) == 3, [r.text for r in results]
            codes = sorted(error_code(r) for r in refused)
            assert "member.not_found" in codes, codes
            assert all(400 <= r.status_code < 500 for r in refused), [r.text for r in refused]
            assert "conflict.concurrent_update" not in codes, codes  # decided, not raced
            given += [r.json()["certificate_no"] for r in ok]
            assert sorted(given) == [f"371326-{n:06d}" for n in range(1, len(given) + 1)]
            numbers = {api.member(m)["certificate_no"] for m in members}
            assert len(numbers) == 12 and numbers <= set(given), round_no


def test_a_read_at_one_instance_sees_a_write_answered_by_another(
    outflow_settings: Callable[..., Any], writer: dict[str, str]
) -> None:
    """Writes do not wait for the read models; reads do, until the read models have passed the
    head of the log. So a read sees every write answered before it was asked, also one that
    another instance of the service answered (its read models are its own)."""
    settings = outflow_settings()
    with running("outflow", settings) as one, running("outflow", settings) as two:
        a, b = Api(one, writer, seed=31), Api(two, writer, seed=32)
        for n in range(15):
            writing, reading = (a, b) if n % 2 else (b, a)
            member_id = writing.register()
            listed = reading.c.get("/api/v1/members", params={"limit": 200}, headers=writer)
            assert listed.status_code == 200, listed.text
            behind = listed.headers.get("X-Liangdi-Read-Models-Behind")
            assert "X-Liangdi-Read-Model" not in listed.headers, behind
            assert member_id in {m["member_id"] for m in listed.json()["items"]}, n
            assert reading.member(member_id)["status"] == "at_home"
            departed = writing.depart(member_id)
            assert departed.status_code == 201, departed.text
            number = departed.json()["certificate_no"]
            assert reading.member(member_id)["certificate_no"] == number, n


def test_a_turn_reads_its_members_together_and_long_histories_from_their_snapshots(
    outflow_settings: Callable[..., Any],
) -> None:
    """The members of the departures in one turn are read in one query, not one round trip
    after another inside the turn that every departure of the county waits for; a member with
    a long history (past its snapshot) is read by the repository, and departs just as well."""
    import random
    from uuid import UUID

    from services.outflow.entrypoints.schemas import RecordDeparture, RegisterMember
    from tests.support.factories import departure_body, member_body

    with running("outflow", outflow_settings()) as c:
        app = c.app.state.runtime.app  # type: ignore[attr-defined]
        rng = random.Random(23)
        members = [
            app.register_member(**RegisterMember(**member_body(rng)).model_dump(), recorded_by="t")
            for _ in range(8)
        ]
        long = members[0]
        for n in range(55):  # 56 events: read from its snapshot (at 50) and what follows it
            app.correct_details(long, changes={"phone": f"1380000{n:04d}"}, recorded_by="t")
        read_together: list[set[UUID]] = []
        own = app.short_histories

        def spied(ids: set[UUID]) -> dict[UUID, Any]:
            found = own(ids)
            read_together.append(set(found))
            return found

        app.short_histories = spied
        body = RecordDeparture(**departure_body("310115", rng)).model_dump()
        results = race(
            *[lambda m=m: app.record_departure(m, **body, recorded_by="t") for m in members]
        )
        departed = app.get_member(long)
    numbers = sorted(r.certificate_no for r in results)
    assert numbers == [f"371326-{n:06d}" for n in range(1, 9)]
    assert max(len(ids) for ids in read_together) >= 2, read_together  # a turn read together
    assert all(long not in ids for ids in read_together)
    assert departed.certificate_no in numbers and departed.phone == "13800000054"
