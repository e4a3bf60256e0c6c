"""The origin sends a member to 310115; only 310115 expects them; the report comes back."""

from __future__ import annotations

import random

from tests.support.factories import departure_body, member_body
from tests.support.harness import auth, running, settings_for, wait_until


def test_departure_reaches_only_the_named_host_and_report_returns(
    postgres_url: str, pg_database_url: str, nats_url: str
) -> None:
    base = pg_database_url.split("?")[0]
    schema = pg_database_url.split("schema=")[1]
    origin = settings_for("outflow", f"{base}?schema={schema}_o", nats_url, "371326")
    host_a = settings_for("inflow", f"{base}?schema={schema}_a", nats_url, "310115")
    host_b = settings_for("inflow", f"{base}?schema={schema}_b", nats_url, "310112")
    rng = random.Random(7)
    try:
        with (
            running("outflow", origin) as out,
            running("inflow", host_a) as a,
            running("inflow", host_b) as b,
        ):
            o_auth, a_auth = auth("origin_operator", "371326"), auth("host_operator", "310115")
            created = out.post("/api/v1/members", json=member_body(rng), headers=o_auth)
            assert created.status_code == 201, created.text
            member_id = created.json()["member_id"]
            departed = out.post(
                f"/api/v1/members/{member_id}/departures",
                json=departure_body("310115", rng),
                headers=o_auth,
            )
            assert departed.status_code == 201, departed.text
            certificate = departed.json()["certificate_no"]
            assert certificate == "371326-000001"

            def expected_at_a() -> list[dict]:
                return a.get("/api/v1/members", headers=a_auth).json()["items"]

            items = wait_until(expected_at_a, message="expected arrival at 310115")
            assert items[0]["origin_member_id"] == member_id
            assert items[0]["status"] == "expected"
            assert items[0]["certificate_no"] == certificate
            at_b = b.get("/api/v1/members", headers=auth("host_operator", "310112")).json()
            assert at_b["total"] == 0

            reported = a.post(
                f"/api/v1/members/{items[0]['member_id']}/report",
                json={"certificate_no": certificate, "reported_on": "2026-03-05"},
                headers=a_auth,
            )
            assert reported.status_code == 204, reported.text
            wait_until(
                lambda: (
                    out.get(f"/api/v1/members/{member_id}", headers=o_auth).json()["reported_on"]
                    == "2026-03-05"
                ),
                message="report applied at the origin",
            )
    finally:
        from tests.support.backends import drop_schema

        for suffix in ("_o", "_a", "_b"):
            drop_schema(postgres_url, schema + suffix)
