"""The pioneer card and the fixed days across a real origin and two real hosts (docs/practices.md).

The host district 310115 registers a community organisation and issues a card to a member who
reported; the organisation records her attendance by card number, and the origin sees it as
contact and, through the host's evaluation, as evidence. A card of district 310112 is refused
at 310115 as foreign; a lost card is reissued: the old number refused, the new one taken.

A branch of 310115 sets its service day (the 25th), records who came; the member who stayed
away three times in a row is on the missed list and on the branch's to-do list, beside the
fixed day whose attendance is not yet recorded. Nothing is dead-lettered on the way.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

from fastapi.testclient import TestClient

from tests.inflow.support import dead_letters
from tests.support.backends import drop_schema
from tests.support.factories import departure_body, member_body
from tests.support.harness import auth, running, settings_for, wait_until

ORIGIN, HOST, OTHER_HOST = "371326", "310115", "310112"
ORIGIN_OP = auth("origin_operator", ORIGIN)
HOST_OP, OTHER_OP = auth("host_operator", HOST), auth("host_operator", OTHER_HOST)
AUDITOR = auth("auditor")


def _reported(
    out: TestClient, host: TestClient, host_place: str, headers: dict[str, str], rng: Any
) -> tuple[str, str]:
    """A member of the origin departed to `host_place` and reported there: (origin id, host id)."""
    member_id = out.post("/api/v1/members", json=member_body(rng), headers=ORIGIN_OP).json()[
        "member_id"
    ]
    departed = out.post(
        f"/api/v1/members/{member_id}/departures",
        json=departure_body(host_place, rng),
        headers=ORIGIN_OP,
    )
    assert departed.status_code == 201, departed.text

    def expected() -> Any:
        r = host.get(f"/api/v1/members/{member_id}", headers=headers)
        return r.status_code == 200 and r.json()

    record = wait_until(expected, message=f"the member expected at {host_place}")
    reported = host.post(
        f"/api/v1/members/{record['member_id']}/report",
        json={"certificate_no": departed.json()["certificate_no"], "reported_on": "2026-03-05"},
        headers=headers,
    )
    assert reported.status_code == 204, reported.text
    return member_id, record["member_id"]


def _code(response: Any) -> str:
    return response.json()["error"]["code"]


def _last_contact(out: TestClient, member_id: str) -> str | None:
    return out.get(f"/api/v1/members/{member_id}", headers=ORIGIN_OP).json()["last_contact_on"]


def test_the_card_and_the_fixed_days_across_an_origin_and_two_hosts(
    postgres_url: str, pg_database_url: str, nats_server
) -> None:
    base, schema = pg_database_url.split("?")[0], pg_database_url.split("schema=")[1]
    origin = settings_for("outflow", f"{base}?schema={schema}_o", nats_server.url, ORIGIN)
    # Two fixed days missed in a row already put a member on the to-do list here.
    host = settings_for(
        "inflow",
        f"{base}?schema={schema}_h",
        nats_server.url,
        HOST,
        fixed_days_missed_in_a_row=2,
    )
    other = settings_for("inflow", f"{base}?schema={schema}_x", nats_server.url, OTHER_HOST)
    rng = random.Random(14)
    try:
        with (
            running("outflow", origin) as out,
            running("inflow", host) as inn,
            running("inflow", other) as far,
        ):
            a, a_here = _reported(out, inn, HOST, HOST_OP, rng)
            c, c_here = _reported(out, inn, HOST, HOST_OP, rng)
            _, b_there = _reported(out, far, OTHER_HOST, OTHER_OP, rng)

            # --- the pioneer card -------------------------------------------------------------
            registered = inn.post(
                "/api/v1/registered-organisations",
                json={"name": "张江镇社区党委", "kind": "community", "registered_on": "2026-03-01"},
                headers=HOST_OP,
            )
            assert registered.status_code == 201, registered.text
            organisation = registered.json()["id"]
            again = inn.post(
                "/api/v1/registered-organisations",
                json={"name": "张江镇社区党委", "kind": "community"},
                headers=HOST_OP,
            )
            assert again.status_code == 409 and _code(again) == "organisation.already_registered"
            listed = inn.get("/api/v1/registered-organisations", headers=HOST_OP).json()
            assert [o["name"] for o in listed["items"]] == ["张江镇社区党委"]

            issued = inn.post(
                f"/api/v1/members/{a_here}/card", json={"issued_on": "2026-03-06"}, headers=HOST_OP
            )
            assert issued.status_code == 201, issued.text
            card = issued.json()
            assert card["card_no"] == "310115-XF-000001" and card["state"] == "valid"
            twice = inn.post(f"/api/v1/members/{a_here}/card", json={}, headers=HOST_OP)
            assert twice.status_code == 409 and _code(twice) == "card.already_issued"

            svg = inn.get(f"/api/v1/cards/{card['card_no']}/qr.svg", headers=HOST_OP)
            assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
            assert b"<svg" in svg.content and b"<path" in svg.content
            png = inn.get(f"/api/v1/cards/{card['card_no']}/qr.png?scale=4", headers=HOST_OP)
            assert png.status_code == 200 and png.content.startswith(b"\x89PNG\r\n\x1a\n")
            printable = inn.get(f"/api/v1/cards/{card['card_no']}/printable.svg", headers=HOST_OP)
            assert printable.status_code == 200
            page = printable.content.decode()
            assert "区域共管先锋卡" in page and card["card_no"] in page
            assert card["name"] and card["name"] in page and "上海市浦东新区" in page
            masked = inn.get(f"/api/v1/cards/{card['card_no']}/printable.svg", headers=AUDITOR)
            assert card["name"] not in masked.content.decode()  # an auditor sees no names

            check_in = {
                "card_no": card["card_no"],
                "organisation_id": organisation,
                "held_on": "2026-04-12",
                "title": "社区环境整治志愿服务",
                "kind": "service",
            }
            done = inn.post("/api/v1/check-ins", json=check_in, headers=HOST_OP)
            assert done.status_code == 201, done.text
            assert done.json()["member_id"] == a_here
            assert done.json()["already_recorded"] is False
            resent = inn.post("/api/v1/check-ins", json=check_in, headers=HOST_OP)
            assert resent.json()["already_recorded"] is True  # a phone that sent twice
            assert resent.json()["activity_id"] == done.json()["activity_id"]
            unknown = inn.post(
                "/api/v1/check-ins",
                json=check_in | {"organisation_id": str(uuid.uuid4())},
                headers=HOST_OP,
            )
            assert unknown.status_code == 404 and _code(unknown) == "organisation.not_registered"

            # The attendance is contact at the origin, with what and who held it.
            wait_until(
                lambda: _last_contact(out, a) == "2026-04-12", message="the check-in as contact"
            )
            timeline = out.get(f"/api/v1/members/{a}/timeline", headers=ORIGIN_OP).json()
            assert any(
                "社区环境整治志愿服务" in str(e) and "张江镇社区党委" in str(e) for e in timeline
            )

            # Another district's card is refused as foreign, a number never issued as unknown.
            foreign = far.post(f"/api/v1/members/{b_there}/card", json={}, headers=OTHER_OP)
            assert foreign.status_code == 201 and foreign.json()["card_no"] == "310112-XF-000001"
            refused = inn.post(
                "/api/v1/check-ins",
                json=check_in | {"card_no": foreign.json()["card_no"]},
                headers=HOST_OP,
            )
            assert refused.status_code == 422 and _code(refused) == "card.foreign"
            assert "310112" in refused.json()["error"]["message"]
            never = inn.post(
                "/api/v1/check-ins",
                json=check_in | {"card_no": "310115-XF-000099"},
                headers=HOST_OP,
            )
            assert never.status_code == 404 and _code(never) == "card.not_found"

            # Lost: reissued with a new number; the old one is refused from then on.
            reissued = inn.post(
                f"/api/v1/cards/{card['card_no']}/reissue",
                json={"reason": "lost", "reissued_on": "2026-05-01"},
                headers=HOST_OP,
            )
            assert reissued.status_code == 201, reissued.text
            new = reissued.json()
            assert new["card_no"] == "310115-XF-000002" and new["replaces"] == card["card_no"]
            old = inn.get(f"/api/v1/cards/{card['card_no']}", headers=HOST_OP).json()
            assert old["state"] == "revoked" and old["replaced_by"] == new["card_no"]
            assert old["revocation_reason"] == "lost" and old["revoked_on"] == "2026-05-01"
            later = check_in | {"held_on": "2026-05-10", "title": "社区党课"}
            revoked = inn.post("/api/v1/check-ins", json=later, headers=HOST_OP)
            assert revoked.status_code == 409 and _code(revoked) == "card.revoked"
            assert (
                inn.get(
                    f"/api/v1/cards/{card['card_no']}/printable.svg", headers=HOST_OP
                ).status_code
                == 409
            )  # a revoked card is not printed again
            taken = inn.post(
                "/api/v1/check-ins", json=later | {"card_no": new["card_no"]}, headers=HOST_OP
            )
            assert taken.status_code == 201, taken.text
            # An organisation off the register takes no card after that day.
            school = inn.post(
                "/api/v1/registered-organisations",
                json={"name": "张江中学党支部", "kind": "school", "registered_on": "2026-03-01"},
                headers=HOST_OP,
            ).json()["id"]
            withdrawn = inn.post(
                f"/api/v1/registered-organisations/{school}/withdrawal",
                json={"withdrawn_on": "2026-05-05", "reason": "并入社区党委"},
                headers=HOST_OP,
            )
            assert withdrawn.status_code == 204, withdrawn.text
            gone = inn.post(
                "/api/v1/check-ins",
                json=later | {"card_no": new["card_no"], "organisation_id": school},
                headers=HOST_OP,
            )
            assert gone.status_code == 409 and _code(gone) == "organisation.withdrawn"
            active = inn.get(
                "/api/v1/registered-organisations", params={"active": True}, headers=HOST_OP
            ).json()
            assert [o["name"] for o in active["items"]] == ["张江镇社区党委"]
            held = inn.get(f"/api/v1/members/{a_here}/card", headers=HOST_OP).json()
            assert held["card_no"] == new["card_no"]
            cards = inn.get("/api/v1/cards", params={"member_id": a_here}, headers=HOST_OP).json()
            assert [(x["card_no"], x["state"]) for x in cards["items"]] == [
                ("310115-XF-000001", "revoked"),
                ("310115-XF-000002", "valid"),
            ]
            wait_until(lambda: _last_contact(out, a) == "2026-05-10", message="the new card")

            # --- fixed days ---------------------------------------------------------------------
            formed = inn.post(
                "/api/v1/branches",
                json={
                    "name": "张江联合党支部",
                    "kind": "joint",
                    "basis": "mixed",
                    "member_ids": [a_here, c_here],
                    "approved_by": "李明",
                    "approving_committee": "中共上海市浦东新区委员会组织部",
                    "committee_place": HOST,
                    "approved_on": "2026-03-10",
                },
                headers=HOST_OP,
            )
            assert formed.status_code == 201, formed.text
            branch = formed.json()["id"]
            days = f"/api/v1/branches/{branch}/fixed-days"
            set_day = inn.put(
                f"{days}/service_day",
                json={"day_of_month": 25, "since": "2026-03-20"},
                headers=HOST_OP,
            )
            assert set_day.status_code == 200, set_day.text
            assert set_day.json()["settings"] == [
                {
                    "kind": "service_day",
                    "label": "党员服务日",
                    "day_of_month": 25,
                    "since": "2026-03-20",
                }
            ]
            council = inn.put(
                f"{days}/council", json={"day_of_month": 31, "since": "2026-03-20"}, headers=HOST_OP
            )
            assert council.status_code == 200, council.text

            def attend(on: str, *who: str, kind: str = "service_day") -> Any:
                return inn.post(
                    f"{days}/{kind}/{on}/attendance",
                    json={"member_ids": list(who)},
                    headers=HOST_OP,
                )

            not_fixed = attend("2026-04-24", a_here, c_here)
            assert not_fixed.status_code == 422 and _code(not_fixed) == "fixed_day.not_scheduled"
            stranger = attend("2026-04-25", a_here, str(uuid.uuid4()))
            assert stranger.status_code == 422 and _code(stranger) == "fixed_day.not_in_branch"
            first = attend("2026-04-25", a_here, c_here)
            assert first.status_code == 201, first.text
            assert first.json() | {"activity_id": None} == {
                "activity_id": None,
                "kind": "service_day",
                "on": "2026-04-25",
                "expected": 2,
                "attended": 2,
            }
            for on in ("2026-05-25", "2026-06-25", "2026-07-25"):
                assert attend(on, a_here).status_code == 201
            # The council of a 31st meets on the 30th in a month of 30 days.
            assert attend("2026-06-30", a_here, c_here, kind="council").status_code == 201

            missed = inn.get(f"{days}/missed", headers=HOST_OP).json()
            assert missed["at_least"] == 2  # LIANGDI_FIXED_DAYS_MISSED_IN_A_ROW of this host
            # Across kinds, the council on 06-30 breaks c's run: 07-25 only. By kind: three.
            assert missed["members"] == []
            service = inn.get(
                f"{days}/missed", params={"kind": "service_day"}, headers=HOST_OP
            ).json()
            assert [(m["member_id"], m["missed_in_a_row"]) for m in service["members"]] == [
                (c_here, 3)
            ]
            assert service["members"][0]["missed"] == ["2026-05-25", "2026-06-25", "2026-07-25"]
            assert service["members"][0]["last_attended_on"] == "2026-04-25"
            assert service["members"][0]["name"]
            stricter = inn.get(
                f"{days}/missed", params={"kind": "service_day", "at_least": 4}, headers=HOST_OP
            ).json()
            assert stricter["members"] == []
            assert attend("2026-07-31", a_here, kind="council").status_code == 201
            now_missed = inn.get(f"{days}/missed", headers=HOST_OP).json()["members"]
            assert [(m["member_id"], m["missed"]) for m in now_missed] == [
                (c_here, ["2026-07-25", "2026-07-31"])
            ]

            todo = inn.get(
                f"/api/v1/branches/{branch}/to-do", params={"as_of": "2026-09-01"}, headers=HOST_OP
            ).json()
            # Passed without attendance recorded: the first ones, before the branch met, and
            # August's; the member who stays away is there too.
            assert [(d["kind"], d["on"]) for d in todo["attendance_due"]] == [
                ("service_day", "2026-03-25"),
                ("council", "2026-03-31"),
                ("council", "2026-04-30"),
                ("council", "2026-05-31"),
                ("service_day", "2026-08-25"),
                ("council", "2026-08-31"),
            ]
            assert [(d["kind"], d["on"]) for d in todo["upcoming"]] == [
                ("service_day", "2026-09-25"),
                ("council", "2026-09-30"),  # the 31st in a month of 30 days
            ]
            assert [m["member_id"] for m in todo["missed_in_a_row"]["members"]] == [c_here]

            across = inn.get("/api/v1/fixed-days/upcoming", headers=HOST_OP).json()
            assert {(u["branch_name"], u["kind"]) for u in across} >= {
                ("张江联合党支部", "service_day")
            }

            # Each attendance reached the origin as contact; the year's evaluation counts them.
            wait_until(lambda: _last_contact(out, a) == "2026-07-31", message="a's fixed days")
            wait_until(lambda: _last_contact(out, c) == "2026-06-30", message="c's fixed days")
            attendance = inn.get(
                f"/api/v1/members/{a_here}/attendance", params={"year": 2026}, headers=HOST_OP
            ).json()
            assert attendance["total"] == 8  # 2 by card, 4 service days, 2 councils
            assert attendance["by_kind"] == {"other": 2, "service": 6}
            graded = inn.post(
                f"/api/v1/members/{a_here}/evaluations",
                json={"year": 2026, "grade": "优秀", "comments": "持先锋卡参加社区活动"},
                headers=HOST_OP,
            )
            assert graded.status_code == 201, graded.text

            def origin_count() -> Any:
                r = out.get(f"/api/v1/members/{a}/assessments/2026", headers=ORIGIN_OP)
                return r.status_code == 200 and r.json()["attendance_count"]

            assert wait_until(origin_count, message="the evidence at the origin") == 8
            assert dead_letters(nats_server.url, HOST) == []
            assert dead_letters(nats_server.url, OTHER_HOST) == []
    finally:
        for suffix in ("_o", "_h", "_x"):
            drop_schema(postgres_url, schema + suffix)
