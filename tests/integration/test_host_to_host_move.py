"""Moving between hosts (异地流动) across a real origin, two real hosts and the exchange
(docs/flows.md, "Moving between hosts").

A member hosted by 310115 moves on to 310112 without a false return home: the old host closes
its record, the new host expects the member with the endorsed certificate, the report there
reaches the origin. A second move back with a new certificate reopens the first host's record.
Nothing is dead-lettered, and the exchange sees one owner throughout.
"""

from __future__ import annotations

import random
from typing import Any

from tests.inflow.support import dead_letters
from tests.support.harness import auth, wait_until
from tests.support.places import host_record, real_places, register_and_depart, report

ORIGIN, OLD, NEW = "371326", "310115", "310112"
ORIGIN_OP = auth("origin_operator", ORIGIN)
AT = {OLD: auth("host_operator", OLD), NEW: auth("host_operator", NEW)}
ADMIN = auth("sync_admin")


def test_a_member_moves_from_one_host_to_another_and_back(
    postgres_url: str, pg_database_url: str, nats_server
) -> None:
    with real_places(
        postgres_url,
        pg_database_url,
        nats_server.url,
        o=("outflow", ORIGIN),
        a=("inflow", OLD),
        b=("inflow", NEW),
        s=("sync", None),
    ) as places:
        out, a, b, sync = places["o"], places["a"], places["b"], places["s"]
        hosts = {OLD: a, NEW: b}
        member_id, first_certificate = register_and_depart(out, OLD, random.Random(31))

        def record_at(place: str, status: str) -> Any:
            r = hosts[place].get(f"/api/v1/members/{member_id}", headers=AT[place])
            return r.status_code == 200 and r.json()["status"] == status and r.json()

        def origin_view() -> dict[str, Any]:
            return out.get(f"/api/v1/members/{member_id}", headers=ORIGIN_OP).json()

        def reported_at(place: str, certificate: str, on: str) -> None:
            assert (
                host_record(hosts[place], place, member_id, "expected")["certificate_no"]
                == certificate
            )
            report(hosts[place], place, member_id, certificate, on)
            wait_until(
                lambda: origin_view()["reported_on"] == on and origin_view()["host_place"] == place,
                message=f"the report at {place} reached the origin",
            )

        reported_at(OLD, first_certificate, "2026-03-05")
        # The old host learns first that the member moved on; the origin records the move.
        record = record_at(OLD, "reported")
        left = a.post(
            f"/api/v1/members/{record['member_id']}/leave",
            json={"left_on": "2026-08-30", "reason": "moved_on", "destination": "闵行区"},
            headers=AT[OLD],
        )
        assert left.status_code == 204, left.text
        wait_until(lambda: origin_view()["left_host_on"] == "2026-08-30", message="left")

        move = {
            "to_host_place": NEW,
            "moved_on": "2026-09-01",
            "certificate": "endorse",
            "employer": "闵行区某电子有限公司",
            "host_address": "上海市闵行区莘庄镇1号",
        }
        same = out.post(
            f"/api/v1/members/{member_id}/moves",
            json={**move, "to_host_place": OLD},
            headers=ORIGIN_OP,
        )
        assert same.status_code == 422 and same.json()["error"]["code"] == "move.same_place"
        early = out.post(
            f"/api/v1/members/{member_id}/moves",
            json={**move, "moved_on": "2026-03-02"},
            headers=ORIGIN_OP,
        )
        assert early.status_code == 422, early.text
        assert early.json()["error"]["code"] == "move.before_report"
        moved = out.post(f"/api/v1/members/{member_id}/moves", json=move, headers=ORIGIN_OP)
        assert moved.status_code == 201, moved.text
        assert moved.json()["certificate_no"] == first_certificate  # endorsed: same number
        after = origin_view()
        assert after["status"] == "departed" and after["host_place"] == NEW
        assert after["reported_on"] is None and after["returned_on"] is None

        reported_at(NEW, first_certificate, "2026-09-03")
        assert record_at(OLD, "left")

        # And back, with a new certificate: the first host's record is expected again.
        back = out.post(
            f"/api/v1/members/{member_id}/moves",
            json={**move, "to_host_place": OLD, "moved_on": "2026-10-01", "certificate": "new"},
            headers=ORIGIN_OP,
        )
        assert back.status_code == 201, back.text
        second_certificate = back.json()["certificate_no"]
        assert second_certificate != first_certificate
        assert second_certificate.endswith("000002")  # numbered without gaps
        wait_until(lambda: record_at(NEW, "left"), message="the new host closed its record")
        reported_at(OLD, second_certificate, "2026-10-02")

        for place in (OLD, NEW):
            assert dead_letters(nats_server.url, place) == [], place

        def exchange_settled() -> Any:
            r = sync.get("/admin/reconciliation", headers=ADMIN).json()
            # Departure, report, leaving; then twice a move (closed at one host, expected at
            # the other) and a report: nine facts.
            return r["reconciler"]["counts"]["applied"] >= 9 and r

        report_ = wait_until(exchange_settled, message="the exchange applied the facts")
        assert report_["reconciler"]["counts"]["dead_letter"] == 0
        mismatches = sync.get("/admin/reconciliation/mismatches", headers=ADMIN).json()
        assert mismatches["total"] == 0, mismatches
