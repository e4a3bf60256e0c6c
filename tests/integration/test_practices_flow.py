"""The practices across a real origin and a real host (docs/practices.md): the host office's
organisation tree grown by the origin's decisions, commitments and service hours as assessment
evidence, and the activity certificate printed, reissued and cancelled. Nothing is dead-lettered.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from shared.validation.bounds import china_today
from tests.inflow.support import dead_letters
from tests.support.backends import drop_schema
from tests.support.factories import departure_body, member_body
from tests.support.harness import auth, running, settings_for, wait_until

ORIGIN, HOST = "371326", "310115"
ORIGIN_OP, HOST_OP = auth("origin_operator", ORIGIN), auth("host_operator", HOST)
ADMIN = auth("sync_admin")


@contextmanager
def origin_and_host(
    postgres_url: str,
    pg_database_url: str,
    nats_url: str,
    origin: dict,
    host: dict,
    exchange: list | None = None,
) -> Iterator[tuple[Any, Any]]:
    """A real origin and host; with `exchange` (a list), the exchange too, appended to it."""
    base, schema = pg_database_url.split("?")[0], pg_database_url.split("schema=")[1]
    o = settings_for("outflow", f"{base}?schema={schema}_o", nats_url, ORIGIN, **origin)
    h = settings_for("inflow", f"{base}?schema={schema}_h", nats_url, HOST, **host)
    s = settings_for("sync", f"{base}?schema={schema}_s", nats_url)
    try:
        with ExitStack() as stack:
            out = stack.enter_context(running("outflow", o))
            inn = stack.enter_context(running("inflow", h))
            if exchange is not None:
                exchange.append(stack.enter_context(running("sync", s)))
            yield out, inn
            assert dead_letters(nats_url, HOST) == []
    finally:
        for suffix in ("_o", "_h", "_s"):
            drop_schema(postgres_url, schema + suffix)


def departed(out: Any, inn: Any, rng: random.Random, n: int) -> list[dict[str, Any]]:
    """`n` members departed from the origin and expected at the host (not yet reported)."""
    found = []
    while len(found) < n:
        registered = out.post("/api/v1/members", json=member_body(rng), headers=ORIGIN_OP)
        if registered.status_code == 409:  # the same random ID number twice
            continue
        member_id = registered.json()["member_id"]
        gone = out.post(
            f"/api/v1/members/{member_id}/departures",
            json=departure_body(HOST, rng),
            headers=ORIGIN_OP,
        )
        assert gone.status_code == 201, gone.text
        found.append({"origin_id": member_id, "certificate_no": gone.json()["certificate_no"]})
    for m in found:
        rows = wait_until(
            lambda m=m: [
                r
                for r in inn.get("/api/v1/members", headers=HOST_OP).json()["items"]
                if r["origin_member_id"] == m["origin_id"]
            ],
            message="the member expected at the host",
        )
        m["record"] = rows[0]["member_id"]
    return found


def reported(out: Any, inn: Any, rng: random.Random, n: int) -> list[dict[str, Any]]:
    found = departed(out, inn, rng, n)
    for m in found:
        r = inn.post(
            f"/api/v1/members/{m['record']}/report",
            json={"certificate_no": m["certificate_no"], "reported_on": "2026-03-05"},
            headers=HOST_OP,
        )
        assert r.status_code == 204, r.text
    return found


def form(inn: Any, name: str, members: list[dict[str, Any]]) -> str:
    r = inn.post(
        "/api/v1/branches",
        json={
            "name": name,
            "basis": "employer",
            "basis_value": name,
            "member_ids": [m["record"] for m in members],
            "approved_by": "李明",
            "approving_committee": "中共上海市浦东新区委员会组织部",
            "committee_place": HOST,
            "approved_on": "2026-04-01",
        },
        headers=HOST_OP,
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_the_tree_grows_by_the_origin_counties_decisions(
    postgres_url: str, pg_database_url: str, nats_server
) -> None:
    thresholds = {"general_branch_min_branches": 2, "committee_min_members": 7}
    rng = random.Random(31)
    exchange: list[Any] = []
    with origin_and_host(
        postgres_url, pg_database_url, nats_server.url, {}, thresholds, exchange
    ) as (
        out,
        inn,
    ):
        members = reported(out, inn, rng, 7)
        tree = f"/api/v1/organisations/{ORIGIN}"
        empty = inn.get(tree, headers=HOST_OP).json()
        assert (empty["level"], empty["branch_count"], empty["proposal"]) == ("branches", 0, None)

        form(inn, "张江软件园流动党员党支部", members[:3])
        # One branch calls for nothing above it: nothing to propose.
        early = inn.post(f"{tree}/proposals", json={"name": "平邑县驻浦东党总支"}, headers=HOST_OP)
        assert early.status_code == 422, early.text
        assert early.json()["error"]["code"] == "organisation.not_growing"
        asked = inn.post(
            f"{tree}/proposals",
            json={"to_level": "general_branch", "name": "平邑县驻浦东党总支"},
            headers=HOST_OP,
        )
        assert asked.status_code == 422, asked.text
        assert asked.json()["error"]["code"] == "organisation.threshold_not_met"

        # The counts reach the county before any proposal: the host office reports them.
        wait_until(
            lambda: inn.get(tree, headers=HOST_OP).json()["member_count"] == 3,
            message="the first branch in the tree",
        )
        sent = inn.post(f"{tree}/report", headers=HOST_OP)
        assert sent.status_code == 200 and sent.json()["last_reported_on"], sent.text
        at_origin = f"/api/v1/host-organisations/{HOST}"
        first = wait_until(
            lambda: (r := out.get(at_origin, headers=ORIGIN_OP)).status_code == 200 and r.json(),
            message="the reported tree at the origin",
        )
        assert (first["level"], first["member_count"], first["proposals"]) == ("branches", 3, [])
        assert [b["members"] for b in first["branches"]] == [3]

        second = form(inn, "浦东物流流动党员党支部", members[3:6])
        now = wait_until(
            lambda: (t := inn.get(tree, headers=HOST_OP).json())["member_count"] == 6 and t,
            message="both branches in the tree",
        )
        assert now["branch_count"] == 2 and now["due_level"] == "general_branch"
        assert now["proposal"] == {
            "to_level": "general_branch",
            "branch_count": 2,
            "member_count": 6,
        }

        proposed = inn.post(
            f"{tree}/proposals", json={"name": "平邑县驻浦东党总支"}, headers=HOST_OP
        )
        assert proposed.status_code == 201, proposed.text
        assert proposed.json()["to_level"] == "general_branch"
        twice = inn.post(f"{tree}/proposals", json={"name": "又一个"}, headers=HOST_OP)
        assert twice.status_code == 409
        assert twice.json()["error"]["code"] == "organisation.proposal_pending"

        seen = wait_until(
            lambda: (r := out.get(at_origin, headers=ORIGIN_OP).json())["proposals"] and r,
            message="the proposal at the origin",
        )
        assert seen["level"] == "branches" and seen["member_count"] == 6
        assert sorted(b["members"] for b in seen["branches"]) == [3, 3]
        proposal_id = proposed.json()["proposal_id"]
        assert seen["proposals"][0]["proposal_id"] == proposal_id
        decision = f"{at_origin}/proposals/{proposal_id}/decision"
        approve = {
            "decision": "approved",
            "decided_by": "中共平邑县委组织部",
            "decided_on": china_today().isoformat(),
        }
        approved = out.post(decision, json=approve, headers=ORIGIN_OP)
        assert approved.status_code == 200, approved.text
        again = out.post(decision, json=approve, headers=ORIGIN_OP)
        assert again.status_code == 409, again.text

        grown = wait_until(
            lambda: (t := inn.get(tree, headers=HOST_OP).json())["level"] == "general_branch" and t,
            message="the general branch at the host",
        )
        assert grown["name"] == "平邑县驻浦东党总支"
        assert grown["approved_by"] == "中共平邑县委组织部" and grown["pending"] is None
        reported_back = wait_until(
            lambda: (
                (t := out.get(at_origin, headers=ORIGIN_OP).json())["level"] == "general_branch"
                and t
            ),
            message="the applied change at the origin",
        )
        assert reported_back["member_count"] == 6 and len(reported_back["branches"]) == 2

        # The seventh member makes a committee due; the county refuses it, with a reason.
        joined = inn.post(
            f"/api/v1/branches/{second}/members",
            json={"member_id": members[6]["record"]},
            headers=HOST_OP,
        )
        assert joined.status_code in (200, 201, 204), joined.text
        wait_until(
            lambda: inn.get(tree, headers=HOST_OP).json()["due_level"] == "committee",
            message="a committee due",
        )
        committee = inn.post(
            f"{tree}/proposals",
            json={"name": "平邑县驻浦东党委", "reason": "党员7名"},
            headers=HOST_OP,
        )
        assert committee.json()["to_level"] == "committee", committee.text
        wait_until(
            lambda: len(out.get(at_origin, headers=ORIGIN_OP).json()["proposals"]) == 2,
            message="the second proposal at the origin",
        )
        no_reason = out.post(
            f"{at_origin}/proposals/{committee.json()['proposal_id']}/decision",
            json=approve | {"decision": "refused"},
            headers=ORIGIN_OP,
        )
        assert no_reason.status_code == 422, no_reason.text
        refused = out.post(
            f"{at_origin}/proposals/{committee.json()['proposal_id']}/decision",
            json=approve | {"decision": "refused", "reason": "待党员满百人再议"},
            headers=ORIGIN_OP,
        )
        assert refused.status_code == 200, refused.text
        steps = wait_until(
            lambda: (
                (h := inn.get(f"{tree}/history", headers=HOST_OP).json()["items"])[-1]["step"]
                == "refused"
                and h
            ),
            message="the refusal at the host",
        )
        assert [s["step"] for s in steps] == [
            "proposed",
            "approved_and_applied",
            "proposed",
            "refused",
        ]
        assert inn.get(tree, headers=HOST_OP).json()["level"] == "general_branch"
        # The exchange takes the tree's facts (keyed by the organisation, not a member) as well:
        # 7 departures, 7 reports, 7 branch assignments, a report of the tree, 2 proposals,
        # 2 decisions, 1 applied change.
        sync = exchange[0]

        def reconciler() -> dict[str, int]:
            report = sync.get("/admin/reconciliation", headers=ADMIN).json()
            return report["reconciler"]["counts"]

        wait_until(lambda: reconciler()["applied"] >= 27, message="all facts at the exchange")
        assert reconciler()["dead_letter"] == 0
        origin_steps = out.get(f"{at_origin}/history", headers=ORIGIN_OP).json()["items"]
        assert [s["step"] for s in origin_steps] == [
            "proposed",
            "approved",
            "applied",
            "proposed",
            "refused",
        ]


def test_commitments_and_service_hours_are_evidence_at_the_origin(
    postgres_url: str, pg_database_url: str, nats_server
) -> None:
    rng = random.Random(37)
    with origin_and_host(postgres_url, pg_database_url, nats_server.url, {}, {}) as (out, inn):
        (member,) = reported(out, inn, rng, 1)
        record = f"/api/v1/members/{member['record']}"
        text = "带头遵守社区公约，每月参加一次志愿服务"
        made = inn.post(
            f"{record}/commitments",
            json={"year": 2026, "text": text, "made_on": "2026-03-10"},
            headers=HOST_OP,
        )
        assert made.status_code == 204, made.text
        twice = inn.post(
            f"{record}/commitments",
            json={"year": 2026, "text": "另一个", "made_on": "2026-03-11"},
            headers=HOST_OP,
        )
        assert twice.json()["error"]["code"] == "commitment.already_made"
        for team, kind, on, hours in (
            ("浦源社区党员志愿服务队", "volunteer_team", "2026-04-05", 3.5),
            ("三送一扶小组", "three_sends_one_help", "2026-05-20", 2.0),
        ):
            served = inn.post(
                f"{record}/service",
                json={"team": team, "kind": kind, "served_on": on, "hours": hours},
                headers=HOST_OP,
            )
            assert served.status_code == 201, served.text
        early = inn.post(
            f"{record}/service",
            json={"team": "x", "kind": "other", "served_on": "2026-03-01", "hours": 1},
            headers=HOST_OP,
        )
        assert early.status_code == 422
        assert early.json()["error"]["code"] == "service.before_arrival"
        at_host = inn.get(f"{record}/service", params={"year": 2026}, headers=HOST_OP).json()
        assert at_host["service_hours"] == 5.5 and len(at_host["entries"]) == 2

        graded = inn.post(
            f"{record}/evaluations",
            json={"year": 2026, "grade": "优秀", "comments": "积极参加志愿服务"},
            headers=HOST_OP,
        )
        assert graded.status_code == 201, graded.text
        path = f"/api/v1/members/{member['origin_id']}/assessments/2026"
        view = wait_until(
            lambda: (
                (r := out.get(path, headers=ORIGIN_OP)).status_code == 200
                and r.json()["host_grade"]
                and r.json()["evidence"]["service_hours"] == 5.5
                and r.json()
            ),
            message="the evidence beside the grades at the origin",
        )
        assert view["host_grade"] == "excellent"
        assert view["evidence"]["service_entries"] == 2
        assert [c["text"] for c in view["evidence"]["commitments"]] == [text]
        other_year = out.get(path.replace("2026", "2025"), headers=ORIGIN_OP)
        if other_year.status_code == 200:
            assert other_year.json()["evidence"]["service_hours"] == 0


def test_the_certificate_printed_reissued_and_cancelled(
    postgres_url: str, pg_database_url: str, nats_server
) -> None:
    rng = random.Random(41)
    origin = {"certificate_validity_months": 6}
    with origin_and_host(postgres_url, pg_database_url, nats_server.url, origin, {}) as (
        out,
        inn,
    ):
        (member,) = departed(out, inn, rng, 1)
        at_origin = f"/api/v1/members/{member['origin_id']}/certificate"
        at_host = f"/api/v1/members/{member['record']}"
        first = out.get(at_origin, headers=ORIGIN_OP).json()
        old = member["certificate_no"]
        assert first["number"] == old
        # Issued on departure (2026-03-01), valid 6 months: expired by now.
        assert (first["issued_on"], first["valid_until"]) == ("2026-03-01", "2026-08-31")
        assert first["state"] == "expired"

        pdf = out.get(f"{at_origin}.pdf", headers=ORIGIN_OP)
        assert pdf.status_code == 200, pdf.text
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF") and old.encode() in pdf.content

        lost = out.post(
            f"{at_origin}/reissue",
            json={"reason": "lost", "reissued_on": "2026-03-03"},
            headers=ORIGIN_OP,
        )
        assert lost.status_code == 200, lost.text
        new = lost.json()["number"]
        county, seq = old.rsplit("-", 1)
        assert new == f"{county}-{int(seq) + 1:06d}"  # the register's next number: no gap
        assert lost.json()["valid_until"] == "2026-09-02"
        assert lost.json()["void"][0]["number"] == old
        record = out.get(f"/api/v1/members/{member['origin_id']}", headers=ORIGIN_OP).json()
        assert record["certificate_no"] == new  # the member's record, not only the certificate
        reprinted = out.get(f"{at_origin}.pdf", headers=ORIGIN_OP).content
        assert new.encode() in reprinted and old.encode() not in reprinted

        known = wait_until(
            lambda: (
                (c := inn.get(f"{at_host}/certificate", headers=HOST_OP).json())["certificate_no"]
                == new
                and c
            ),
            message="the reissue at the host",
        )
        assert known["void"][old]["replaced_by"] == new
        wait_until(
            lambda: inn.get(at_host, headers=HOST_OP).json()["certificate_no"] == new,
            message="the host's member record shows the new number",
        )
        void = inn.post(
            f"{at_host}/report",
            json={"certificate_no": old, "reported_on": "2026-03-05"},
            headers=HOST_OP,
        )
        assert void.status_code == 422, void.text
        assert void.json()["error"]["code"] == "reporting.certificate_void"
        ok = inn.post(
            f"{at_host}/report",
            json={"certificate_no": new, "reported_on": "2026-03-05"},
            headers=HOST_OP,
        )
        assert ok.status_code == 204, ok.text
        # The report reaches the origin first: a cancel saved in the very moment the report's
        # fact lands on the same record is refused for the race (409 concurrent_update, retry).
        wait_until(
            lambda: out.get(f"/api/v1/members/{member['origin_id']}", headers=ORIGIN_OP).json()[
                "reported_on"
            ],
            message="the report at the origin",
        )

        cancelled = out.post(
            f"{at_origin}/cancel",
            json={"reason": "返乡，不再外出", "cancelled_on": "2026-11-01"},
            headers=ORIGIN_OP,
        )
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["state"] == "cancelled" and cancelled.json()["number"] is None
        assert out.get(f"{at_origin}.pdf", headers=ORIGIN_OP).status_code == 409
        again = out.post(f"{at_origin}/cancel", json={"reason": "再次"}, headers=ORIGIN_OP)
        assert again.status_code == 409
        gone = wait_until(
            lambda: (
                (c := inn.get(f"{at_host}/certificate", headers=HOST_OP).json())["certificate_no"]
                is None
                and c
            ),
            message="the cancellation at the host",
        )
        assert set(gone["void"]) == {old, new}
