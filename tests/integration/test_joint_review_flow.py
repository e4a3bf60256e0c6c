"""Joint review (联合评议) across a real origin, a real host and the exchange (docs/flows.md).

The host and the origin grade a member two steps apart: the assessment needs a joint review. The
origin records its outcome; the host and the exchange see the same review, then the same
conclusion, and the exchange does not call it "concluded without review". Nothing is
dead-lettered on the way.
"""

from __future__ import annotations

import random
from typing import Any

from tests.inflow.support import dead_letters
from tests.support.harness import auth, wait_until
from tests.support.places import real_places, register_and_depart, report

ORIGIN, HOST = "371326", "310115"
ORIGIN_OP, HOST_OP = auth("origin_operator", ORIGIN), auth("host_operator", HOST)
ADMIN = auth("sync_admin")


def test_one_joint_review_one_state_at_the_three_services(
    postgres_url: str, pg_database_url: str, nats_server
) -> None:
    with real_places(
        postgres_url,
        pg_database_url,
        nats_server.url,
        o=("outflow", ORIGIN),
        h=("inflow", HOST),
        s=("sync", None),
    ) as places:
        out, inn, sync = places["o"], places["h"], places["s"]
        member_id, certificate = register_and_depart(out, HOST, random.Random(23))
        record_id = report(inn, HOST, member_id, certificate, "2026-03-05")
        host_graded = inn.post(
            f"/api/v1/members/{record_id}/evaluations",
            json={"year": 2026, "grade": "优秀", "comments": "积极参加活动"},
            headers=HOST_OP,
        )
        assert host_graded.status_code == 201, host_graded.text
        path = f"/api/v1/members/{member_id}/assessments/2026"

        def origin_has_host_grade() -> Any:
            r = out.get(path, headers=ORIGIN_OP)
            return r.status_code == 200 and r.json()["host_grade"] and r.json()

        wait_until(origin_has_host_grade, message="the host's grade at the origin")
        flagged = out.post(
            f"{path}/origin-evaluation", json={"grade": "basically_competent"}, headers=ORIGIN_OP
        )
        assert flagged.json()["state"] == "joint_review", flagged.text

        # Concluding before the review (and without a resolution) is refused.
        early = out.post(f"{path}/conclusion", json={"grade": "competent"}, headers=ORIGIN_OP)
        assert early.status_code == 409
        assert early.json()["error"]["code"] == "assessment.joint_review_pending"
        future = out.post(
            f"{path}/joint-review",
            json={"agreed_grade": "competent", "reviewed_on": "2099-01-01"},
            headers=ORIGIN_OP,
        )
        assert future.status_code == 422, future.text
        reviewed = out.post(
            f"{path}/joint-review",
            json={"agreed_grade": "合格", "notes": "两地视频评议", "reviewed_on": "2026-11-20"},
            headers=ORIGIN_OP,
        )
        assert reviewed.status_code == 200, reviewed.text
        assert reviewed.json()["state"] == "jointly_reviewed"
        assert reviewed.json()["review"]["agreed_grade"] == "competent"

        def host_row() -> Any:
            rows = inn.get("/api/v1/evaluations", params={"year": 2026}, headers=HOST_OP).json()
            return rows["items"] and rows["items"][0]

        at_host = wait_until(
            lambda: (r := host_row()) and r["agreed_grade"] and r, message="the review at the host"
        )
        assert at_host["agreed_grade"] == "competent"
        assert at_host["reviewed_on"] == "2026-11-20"

        def at_exchange() -> Any:
            items = sync.get(
                "/admin/reconciliation/assessments", params={"year": 2026}, headers=ADMIN
            ).json()["items"]
            return (
                items
                and sync.get(
                    f"/admin/reconciliation/assessments/{items[0]['assessment_id']}", headers=ADMIN
                ).json()
            )

        seen = wait_until(
            lambda: (a := at_exchange()) and a["joint_review"] and a,
            message="the review at the exchange",
        )
        assert seen["joint_review"]["agreed_grade"] == "competent"
        assert seen["state"] == "divergent" and seen["divergent"] is True

        # A grade other than the agreed one needs a resolution saying why.
        other = out.post(
            f"{path}/conclusion", json={"grade": "basically_competent"}, headers=ORIGIN_OP
        )
        assert other.status_code == 409, other.text
        assert other.json()["error"]["code"] == "assessment.differs_from_review"
        done = out.post(f"{path}/conclusion", json={"grade": "competent"}, headers=ORIGIN_OP)
        assert done.status_code == 200, done.text
        assert done.json()["state"] == "concluded"
        assert done.json()["resolution"].startswith("joint review 2026-11-20")

        final = wait_until(
            lambda: (a := at_exchange()) and a["state"] == "concluded" and a,
            message="the conclusion at the exchange",
        )
        assert final["concluded_grade"] == "competent"
        assert final["concluded_without_review"] is False
        assert final["resolution"].startswith("joint review 2026-11-20")
        wait_until(
            lambda: host_row()["concluded_grade"] == "competent",
            message="the conclusion at the host",
        )
        assert dead_letters(nats_server.url, HOST) == []
        reconciler = sync.get("/admin/reconciliation", headers=ADMIN).json()["reconciler"]
        assert reconciler["counts"]["dead_letter"] == 0
