"""Expected arrivals from sync, reporting with the certificate, unannounced arrivals, overdue."""

from __future__ import annotations

import random
from datetime import date, timedelta

import sqlalchemy as sa

from shared.contracts import events as wire
from shared.validation import make_resident_id
from tests.inflow.support import (
    AUDITOR,
    HOST,
    ORIGIN,
    OriginWire,
    W,
    dead_letters,
    error_code,
    expect,
    inflow,
    no_plaintext,
    report,
)
from tests.support.harness import auth, wait_until


def test_departure_is_expected_and_reporting_checks_the_certificate(
    pg_database_url: str, nats_server
) -> None:
    origin, rng = OriginWire(nats_server.url), random.Random(1)
    with inflow(pg_database_url, nats_server.url) as host:
        member_id = origin.depart(rng, phone="13912345678")
        record = expect(host, member_id)
        assert record["status"] == "expected" and record["origin_place"] == ORIGIN
        assert record["origin_county"] == "平邑县"
        assert record["resident_id_masked"].count("*") == 10
        no_plaintext(record, "13912345678")

        arrivals = host.get("/api/v1/arrivals", headers=AUDITOR).json()
        assert [a["origin_member_id"] for a in arrivals["items"]] == [member_id]
        assert arrivals["items"][0]["origin_county"] == "平邑县"
        assert arrivals["items"][0]["expected_since"]

        url = f"/api/v1/members/{record['member_id']}/report"
        wrong = host.post(
            url, json={"certificate_no": "371326-999999", "reported_on": "2026-03-05"}, headers=W
        )
        assert wrong.status_code == 422 and error_code(wrong) == "reporting.certificate_mismatch"
        early = host.post(
            url,
            json={"certificate_no": record["certificate_no"], "reported_on": "2026-02-01"},
            headers=W,
        )
        assert error_code(early) == "reporting.before_departure"
        forged = host.post(
            url,
            json={
                "certificate_no": record["certificate_no"],
                "reported_on": "2026-03-05",
                "name": "改名",
            },
            headers=W,
        )
        assert forged.status_code == 422 and error_code(forged) == "request.invalid"
        assert host.get(f"/api/v1/members/{member_id}", headers=W).json()["status"] == "expected"

        report(host, record, locality="张江镇")
        again = host.post(
            url,
            json={"certificate_no": record["certificate_no"], "reported_on": "2026-03-06"},
            headers=W,
        )
        assert again.status_code == 409 and error_code(again) == "member.wrong_state"
        assert host.get("/api/v1/members?status=present", headers=W).json()["total"] == 1

        reported = wait_until(
            lambda: origin.facts_of_type("member.reported"), message="member.reported at the origin"
        )
        assert reported[0]["member_id"] == member_id
        assert reported[0]["certificate_no"] == record["certificate_no"]


def test_only_host_operators_write_and_only_for_their_place(
    pg_database_url: str, nats_server
) -> None:
    origin, rng = OriginWire(nats_server.url), random.Random(2)
    with inflow(pg_database_url, nats_server.url) as host:
        record = expect(host, origin.depart(rng))
        body = {"certificate_no": record["certificate_no"], "reported_on": "2026-03-05"}
        url = f"/api/v1/members/{record['member_id']}/report"
        assert host.post(url, json=body).status_code == 401
        assert host.post(url, json=body, headers=AUDITOR).status_code == 403
        other = host.post(url, json=body, headers=auth("host_operator", "310112"))
        assert other.status_code == 403 and error_code(other) == "auth.wrong_place"
        origin_op = host.post(url, json=body, headers=auth("origin_operator", ORIGIN))
        assert origin_op.status_code == 403
        assert host.get("/api/v1/members", headers=AUDITOR).status_code == 200


def test_overdue_reporting_is_listed_and_flagged_once_per_deadline(
    pg_database_url: str, nats_server
) -> None:
    origin, rng = OriginWire(nats_server.url), random.Random(3)
    with inflow(pg_database_url, nats_server.url, reporting_deadline_days=10) as host:
        late = origin.depart(rng, departed_on="2026-03-01")
        fresh = origin.depart(rng, departed_on="2026-03-20")
        late_record, _ = expect(host, late), expect(host, fresh)

        overdue = host.get("/api/v1/arrivals/overdue?as_of=2026-03-25", headers=AUDITOR).json()
        assert [o["origin_member_id"] for o in overdue["items"]] == [late]
        assert overdue["items"][0]["due_on"] == "2026-03-11"
        assert overdue["items"][0]["overdue_flagged_for"] is None

        tomorrow = (date.today() + timedelta(days=2)).isoformat()
        future = host.post("/api/v1/arrivals/overdue-flags", json={"as_of": tomorrow}, headers=W)
        assert future.status_code == 422 and error_code(future) == "arrivals.as_of_future"
        first = host.post("/api/v1/arrivals/overdue-flags", json={"as_of": "2026-03-25"}, headers=W)
        assert first.status_code == 200, first.text
        assert first.json()["flagged"] == [late_record["member_id"]]
        second = host.post(
            "/api/v1/arrivals/overdue-flags", json={"as_of": "2026-03-28"}, headers=W
        )
        assert second.json()["flagged"] == []
        listed = host.get("/api/v1/arrivals/overdue?as_of=2026-03-28", headers=W).json()
        assert listed["items"][0]["overdue_flagged_for"] == "2026-03-11"

        facts = wait_until(
            lambda: origin.facts_of_type("member.reporting_overdue"),
            message="overdue at the origin",
        )
        assert [f["member_id"] for f in facts] == [late]
        assert facts[0]["due_on"] == "2026-03-11"
        # Later: the other member's deadline passes too; each member is flagged exactly once.
        fresh_record = expect(host, fresh)
        later = host.post("/api/v1/arrivals/overdue-flags", json={"as_of": "2026-04-30"}, headers=W)
        assert later.json()["flagged"] == [fresh_record["member_id"]]
        again = host.post("/api/v1/arrivals/overdue-flags", json={"as_of": "2026-05-30"}, headers=W)
        assert again.json()["flagged"] == []
        facts = wait_until(
            lambda: len(f := origin.facts_of_type("member.reporting_overdue")) == 2 and f,
            message="second overdue at the origin",
        )
        assert sorted(f["member_id"] for f in facts) == sorted([late, fresh])


def test_unannounced_arrival_is_confirmed_by_the_origin_and_linked(
    pg_database_url: str, nats_server
) -> None:
    origin, rng = OriginWire(nats_server.url), random.Random(4)
    resident_id = make_resident_id(ORIGIN, date(1988, 5, 6), 123)
    body = {
        "origin_place": ORIGIN,
        "name": "赵强",
        "resident_id": resident_id,
        "phone": "13800001111",
        "reported_on": "2026-03-10",
        "employer": "闵行电子厂",
    }
    with inflow(pg_database_url, nats_server.url) as host:
        bad_id = host.post(
            "/api/v1/arrivals/unannounced",
            headers=W,
            json=body
            | {"resident_id": resident_id[:-1] + ("0" if resident_id[-1] != "0" else "1")},
        )
        assert bad_id.status_code == 422 and error_code(bad_id) == "resident_id.check_character"
        bad_place = host.post(
            "/api/v1/arrivals/unannounced", json=body | {"origin_place": "371300"}, headers=W
        )
        assert error_code(bad_place) == "place.not_county"
        bad_phone = host.post(
            "/api/v1/arrivals/unannounced", json=body | {"phone": "12345"}, headers=W
        )
        assert error_code(bad_phone) == "phone.format"
        assert host.get("/api/v1/members", headers=W).json()["total"] == 0

        created = host.post("/api/v1/arrivals/unannounced", json=body, headers=W)
        assert created.status_code == 201, created.text
        record_id = created.json()["id"]
        record = host.get(f"/api/v1/members/{record_id}", headers=W).json()
        assert record["status"] == "reported" and record["arrival"] == "unannounced"
        assert record["confirmed"] is False and record["origin_member_id"] is None
        no_plaintext(record, resident_id, "13800001111")
        engine = sa.create_engine(pg_database_url.split("?")[0].replace("://", "+psycopg://", 1))
        schema = pg_database_url.split("schema=")[1]
        with engine.connect() as conn:
            tables = conn.execute(
                sa.text(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = :s AND table_name LIKE 'inflow\\_%'"
                ),
                {"s": schema},
            ).scalars()
            names = list(tables)
            assert {"inflow_hosted_members", "inflow_attendance"} <= set(names)
            for table in names:
                rows = conn.execute(sa.text(f'SELECT * FROM "{schema}"."{table}"')).all()
                no_plaintext([list(map(str, r)) for r in rows], resident_id, "13800001111")
        engine.dispose()
        waiting = host.get("/api/v1/members?confirmed=false", headers=AUDITOR).json()
        assert [m["member_id"] for m in waiting["items"]] == [record_id]

        asked = wait_until(
            lambda: origin.facts_of_type("member.arrived_unannounced"),
            message="the origin is asked to confirm",
        )
        assert asked[0]["host_record_id"] == record_id
        assert asked[0]["resident_id"] == resident_id  # the origin matches by ID number

        # Until confirmed, nothing the origin cannot place is requested of it.
        refused = host.post(
            f"/api/v1/members/{record_id}/assistance-requests",
            headers=W,
            json={"amount_fen": 1000, "reason": "困难", "requested_on": "2026-03-12"},
        )
        assert refused.status_code == 409 and error_code(refused) == "member.unconfirmed"

        origin_member = "5d6c7c0e-0000-4000-8000-000000000001"
        origin.send(
            wire.ArrivalConfirmed(
                member_id=origin_member,
                origin_place=ORIGIN,
                host_place=HOST,
                host_record_id=record_id,
                certificate_no="371326-000042",
            ),
            member_id=origin_member,
        )
        confirmed = wait_until(
            lambda: (
                (r := host.get(f"/api/v1/members/{record_id}", headers=W).json())["confirmed"] and r
            ),
            message="confirmation applied",
        )
        assert confirmed["origin_member_id"] == origin_member
        assert confirmed["certificate_no"] == "371326-000042"
        by_origin_id = host.get(f"/api/v1/members/{origin_member}", headers=W).json()
        assert by_origin_id["member_id"] == record_id

        # Later facts about the origin's member find the same record ...
        origin.send(
            wire.MemberDetailsCorrected(
                member_id=origin_member,
                origin_place=ORIGIN,
                host_place=HOST,
                employer="浦东物流有限公司",
            ),
            member_id=origin_member,
        )
        wait_until(
            lambda: (
                host.get(f"/api/v1/members/{record_id}", headers=W).json()["employer"]
                == "浦东物流有限公司"
            ),
            message="correction applied",
        )
        # ... and a departure of that member cannot create a second record.
        origin.depart(rng, member_id=origin_member)
        reasons = wait_until(lambda: dead_letters(nats_server.url), message="refused departure")
        assert "inbound.already_hosted" in reasons[0]
        assert host.get("/api/v1/members", headers=W).json()["total"] == 1


def test_overdue_reporting_is_flagged_by_the_service_on_its_schedule(
    pg_database_url: str, nats_server
) -> None:
    """Nobody calls for it: the host's own schedule flags the member and tells the origin."""
    origin, rng = OriginWire(nats_server.url), random.Random(4)
    with inflow(
        pg_database_url, nats_server.url, reporting_deadline_days=10, duty_interval_seconds=0.3
    ) as host:
        late = origin.depart(rng, departed_on="2026-03-01")
        expect(host, late)
        facts = wait_until(
            lambda: origin.facts_of_type("member.reporting_overdue"),
            message="overdue flagged by the schedule and sent to the origin",
        )
        assert [(f["member_id"], f["due_on"]) for f in facts] == [(late, "2026-03-11")]
        today = date.today().isoformat()
        listed = host.get(f"/api/v1/arrivals/overdue?as_of={today}", headers=W).json()
        assert listed["items"][0]["overdue_flagged_for"] == "2026-03-11"
