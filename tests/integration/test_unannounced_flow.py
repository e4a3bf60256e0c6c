"""Unannounced arrival (未报先到) across a real origin and a real host (docs/flows.md).

The host records a member who turned up without a departure; the origin sees the arrival, records
the departure and confirms it. The result at both places is one member: hosted, reported on the
host's date, confirmed, with one certificate, and nothing dead-lettered on the way.
"""

from __future__ import annotations

import random

from tests.inflow.support import dead_letters
from tests.support.backends import drop_schema
from tests.support.factories import departure_body, member_body
from tests.support.harness import auth, running, settings_for, wait_until

ORIGIN, HOST = "371326", "310115"
ORIGIN_OP, HOST_OP = auth("origin_operator", ORIGIN), auth("host_operator", HOST)
ADMIN = auth("sync_admin")


def test_unannounced_arrival_is_linked_into_one_member_at_both_places(
    postgres_url: str, pg_database_url: str, nats_server
) -> None:
    base, schema = pg_database_url.split("?")[0], pg_database_url.split("schema=")[1]
    origin = settings_for("outflow", f"{base}?schema={schema}_o", nats_server.url, ORIGIN)
    host = settings_for("inflow", f"{base}?schema={schema}_h", nats_server.url, HOST)
    exchange = settings_for("sync", f"{base}?schema={schema}_s", nats_server.url)
    rng = random.Random(11)
    person = member_body(rng)
    try:
        with (
            running("outflow", origin) as out,
            running("inflow", host) as inn,
            running("sync", exchange) as sync,
        ):
            member_id = out.post("/api/v1/members", json=person, headers=ORIGIN_OP).json()[
                "member_id"
            ]
            walk_in = {
                "origin_place": ORIGIN,
                "name": person["name"],
                "resident_id": person["resident_id"],
                "phone": person["phone"],
                "reported_on": "2026-03-10",
                "employer": "闵行电子厂",
            }
            created = inn.post("/api/v1/arrivals/unannounced", json=walk_in, headers=HOST_OP)
            assert created.status_code == 201, created.text
            record_id = created.json()["id"]
            # One person, one record: the same walk-in twice is refused.
            again = inn.post("/api/v1/arrivals/unannounced", json=walk_in, headers=HOST_OP)
            assert again.status_code == 409
            assert again.json()["error"]["code"] == "arrival.already_recorded"

            arrival = wait_until(
                lambda: out.get("/api/v1/arrivals", headers=ORIGIN_OP).json(),
                message="the origin sees the unannounced arrival",
            )[0]
            assert arrival["member_id"] == member_id
            assert arrival["mismatches"] == ["member.not_departed"]
            confirm = f"/api/v1/arrivals/{arrival['arrival_id']}/confirm"
            early = out.post(confirm, headers=ORIGIN_OP)
            assert early.status_code == 409 and early.json()["error"]["code"] == "arrival.mismatch"

            departed = out.post(
                f"/api/v1/members/{member_id}/departures",
                json=departure_body(HOST, rng),
                headers=ORIGIN_OP,
            )
            assert departed.status_code == 201, departed.text
            certificate = departed.json()["certificate_no"]

            def linked() -> dict | None:
                r = inn.get(f"/api/v1/members/{record_id}", headers=HOST_OP).json()
                return r if r.get("certificate_no") == certificate else None

            # The departure finds the walk-in by the person: the same record, still unconfirmed.
            record = wait_until(linked, message="the departure linked to the walk-in")
            assert record["confirmed"] is False and record["status"] == "reported"
            assert record["departed_on"] == "2026-03-01"
            assert inn.get("/api/v1/members", headers=HOST_OP).json()["total"] == 1

            confirmed = out.post(confirm, headers=ORIGIN_OP)
            assert confirmed.status_code == 200, confirmed.text
            assert confirmed.json()["member_id"] == member_id
            assert out.get("/api/v1/arrivals", headers=ORIGIN_OP).json() == []

            def host_record() -> dict | None:
                r = inn.get(f"/api/v1/members/{record_id}", headers=HOST_OP).json()
                return r if r.get("confirmed") and r.get("certificate_no") == certificate else None

            record = wait_until(host_record, message="the host's record confirmed and linked")
            assert record["origin_member_id"] == member_id
            assert record["status"] == "reported" and record["reported_on"] == "2026-03-10"
            members = inn.get("/api/v1/members", headers=HOST_OP).json()
            assert members["total"] == 1, members  # never a second "expected" record
            by_origin_id = inn.get(f"/api/v1/members/{member_id}", headers=HOST_OP).json()
            assert by_origin_id["member_id"] == record_id

            def origin_record() -> dict | None:
                m = out.get(f"/api/v1/members/{member_id}", headers=ORIGIN_OP).json()
                return m if m.get("reported_on") == "2026-03-10" else None

            member = wait_until(origin_record, message="the host's report date at the origin")
            assert member["status"] == "departed" and member["host_place"] == HOST
            assert member["certificate_no"] == certificate

            # The exchange saw one member, departed and reported, the arrival confirmed: nothing
            # for an operator to reconcile (before the report, "expected_not_reported" would be).
            report = wait_until(
                lambda: (
                    (r := sync.get("/admin/reconciliation", headers=ADMIN).json())["reconciler"][
                        "counts"
                    ]["applied"]
                    >= 4
                    and r
                ),
                message="the exchange applied the four facts",
            )
            # Applied is not yet projected: the mismatches follow within a poll of the projector
            # (between the departure and the report, "expected_not_reported" holds).
            report = wait_until(
                lambda: (
                    (r := sync.get("/admin/reconciliation", headers=ADMIN).json())["mismatches"][
                        "total"
                    ]
                    == 0
                    and r
                ),
                message="nothing left to reconcile",
            )
            assert report["mismatches"]["total"] == 0, report["mismatches"]
            assert report["reconciler"]["counts"]["dead_letter"] == 0

            # A later host fact about the member reaches the origin's record of the same member.
            left = inn.post(
                f"/api/v1/members/{record_id}/leave",
                json={"left_on": "2026-06-01", "reason": "other"},
                headers=HOST_OP,
            )
            assert left.status_code == 204, left.text
            wait_until(
                lambda: (
                    out.get(f"/api/v1/members/{member_id}", headers=ORIGIN_OP).json()[
                        "left_host_on"
                    ]
                    == "2026-06-01"
                ),
                message="leaving reached the origin",
            )
            assert dead_letters(nats_server.url, HOST) == []
            assert _origin_dead_letters(nats_server.url) == []
            assert sync.get("/admin/dead-letters", headers=ADMIN).json()["total"] == 0

            # Someone the host already expects reports with the certificate, not as a walk-in.
            other = member_body(rng)
            other_id = out.post("/api/v1/members", json=other, headers=ORIGIN_OP).json()
            out.post(
                f"/api/v1/members/{other_id['member_id']}/departures",
                json=departure_body(HOST, rng),
                headers=ORIGIN_OP,
            )
            wait_until(
                lambda: inn.get("/api/v1/members", headers=HOST_OP).json()["total"] == 2,
                message="the second member expected at the host",
            )
            expected = inn.post(
                "/api/v1/arrivals/unannounced",
                json=walk_in | {k: other[k] for k in ("name", "resident_id", "phone")},
                headers=HOST_OP,
            )
            assert expected.status_code == 409, expected.text
            assert expected.json()["error"]["code"] == "arrival.already_recorded"
    finally:
        for suffix in ("_o", "_h", "_s"):
            drop_schema(postgres_url, schema + suffix)


def _origin_dead_letters(nats_url: str) -> list[str]:
    import asyncio

    from shared.messaging.topology import deadletter_subject
    from tests.inflow.support import read_subject

    messages = asyncio.run(
        read_subject(nats_url, deadletter_subject("outflow", ORIGIN), "LIANGDI_DEADLETTER")
    )
    return [headers.get("Liangdi-Reason", "") for _, headers in messages]
