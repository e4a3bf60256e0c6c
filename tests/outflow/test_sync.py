"""Facts to and from host districts over a real NATS JetStream (a stand-in host publishes
well-formed h2o envelopes and reads the o2h ones); effects are checked through the HTTP API."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest

from shared.contracts.events import (
    ActivityAttended,
    ArrivedUnannounced,
    AssistanceRequested,
    BranchAssigned,
    HostEvaluated,
    MemberLeftHost,
    MemberReported,
    ReportingOverdue,
    TransferReceiptReturned,
)
from tests.outflow.conftest import HOST, ORIGIN, OTHER_HOST, Api, error_code
from tests.outflow.hostside import HostSide
from tests.support.backends import NatsServer
from tests.support.factories import member_body
from tests.support.harness import running, wait_until


@pytest.fixture
def linked(
    outflow_settings: Callable[..., Any], nats_server: NatsServer, writer: dict[str, str]
) -> Iterator[tuple[Api, HostSide]]:
    with running("outflow", outflow_settings(nats_server.url)) as c:
        wait_until(lambda: c.get("/readyz").json().get("nats") == "connected")
        yield Api(c, writer, seed=21), HostSide(nats_server.url)


def ids(member_id: str, host: str = HOST) -> dict[str, str]:
    return {"member_id": member_id, "origin_place": ORIGIN, "host_place": host}


def test_host_facts_are_applied_and_refused_ones_dead_lettered(
    linked: tuple[Api, HostSide],
) -> None:
    api, host = linked
    member_id = api.departed(on="2026-03-01")
    cert = api.member(member_id)["certificate_no"]
    host.send(ReportingOverdue(**ids(member_id), due_on=date(2026, 3, 31)), member_id)
    wait_until(lambda: api.member(member_id)["reporting_overdue_since"] == "2026-03-31")
    host.send(
        MemberReported(**ids(member_id), reported_on=date(2026, 3, 5), certificate_no=cert),
        member_id,
    )
    host.send(
        BranchAssigned(**ids(member_id), branch_id="b1", branch_name="张江流动党员支部"), member_id
    )
    host.send(
        ActivityAttended(
            **ids(member_id),
            activity_id="a1",
            kind="monthly_activity_day",
            title="主题党日",
            held_on=date(2026, 4, 10),
            organiser="张江",
        ),
        member_id,
    )
    host.send(
        MemberLeftHost(**ids(member_id), left_on=date(2026, 5, 1), reason="moved_on"), member_id
    )

    def applied() -> dict[str, Any] | None:
        row = api.member(member_id)
        return row if row["left_host_on"] == "2026-05-01" else None

    row = wait_until(applied, message="host facts applied")
    assert row["reported_on"] == "2026-03-05" and row["host_branch"] == "张江流动党员支部"
    assert row["last_contact_on"] == "2026-04-10"  # the activity counts as contact
    assert row["reporting_overdue_since"] is None  # the report settled it
    timeline = api.c.get(f"/api/v1/members/{member_id}/timeline", headers=api.h).json()
    assert [e["by"] for e in timeline if e["type"] == "ContactRecorded"] == [f"host:{HOST}"]

    # Another host may not write this member; an overdue notice for an unknown member neither.
    stranger = HostSide(host.url, OTHER_HOST)
    stranger.send(
        ReportingOverdue(**ids(member_id, OTHER_HOST), due_on=date(2026, 4, 1)), member_id
    )
    host.send(
        ReportingOverdue(**ids("00000000-0000-0000-0000-000000000000"), due_on=date(2026, 4, 1)),
        "x",
    )
    dead = wait_until(lambda: len(host.dead_letters()) >= 2 and host.dead_letters())
    reasons = " ".join(d["reason"] for d in dead)
    assert "inbound.not_your_member" in reasons and "inbound.unknown_member" in reasons
    assert api.member(member_id)["reporting_overdue_since"] is None


def test_unannounced_arrival_is_matched_shown_and_confirmed(linked: tuple[Api, HostSide]) -> None:
    api, host = linked
    body = member_body(api.rng)
    member_id = api.register(**body)
    host.send(
        ArrivedUnannounced(
            host_record_id="H-77",
            origin_place=ORIGIN,
            host_place=HOST,
            name=body["name"],
            resident_id=body["resident_id"],
            phone="13700000000",
            reported_on=date(2026, 4, 2),
        )
    )
    arrivals = wait_until(lambda: api.c.get("/api/v1/arrivals", headers=api.h).json())
    arrival = arrivals[0]
    assert arrival["member_id"] == member_id
    assert arrival["mismatches"] == ["member.not_departed", "phone.differs"]
    assert "*" in arrival["resident_id_masked"]
    r = api.c.post(f"/api/v1/arrivals/{arrival['arrival_id']}/confirm", headers=api.h)
    assert r.status_code == 409 and error_code(r) == "arrival.mismatch"

    assert api.depart(member_id, on="2026-03-28").status_code == 201
    r = api.c.post(f"/api/v1/arrivals/{arrival['arrival_id']}/confirm", headers=api.h)
    assert r.status_code == 200, r.text
    assert api.c.get("/api/v1/arrivals", headers=api.h).json() == []
    sent = wait_until(
        lambda: [
            e for e in host.received(member_id) if e.type.endswith("member.arrival_confirmed.v1")
        ]
    )
    assert sent[0].data["host_record_id"] == "H-77"


def test_origin_facts_reach_the_members_host_in_order(linked: tuple[Api, HostSide]) -> None:
    api, host = linked
    at_home = api.register()
    api.c.patch(f"/api/v1/members/{at_home}", json={"name": "在家"}, headers=api.h)
    member_id = api.departed(on="2025-01-10")
    post = lambda path, body: api.c.post(  # noqa: E731
        f"/api/v1/members/{member_id}{path}", json=body, headers=api.h
    )
    api.c.patch(
        f"/api/v1/members/{member_id}",
        json={"phone": "13911112222", "origin_branch": "x"},
        headers=api.h,
    )
    assert post("/lost", {"reason_code": "went_abroad", "on": "2025-08-01"}).status_code == 200
    assert post("/restoration", {"on": "2025-09-01"}).status_code == 200
    r = post("/transfer-letters", {"receiving_organisation": "张江", "issued_on": "2026-11-01"})
    assert r.status_code == 201
    post(f"/transfer-letters/{r.json()['letter_no']}/void", {"reason": "changed plans"})
    post("/assessments/2026/origin-evaluation", {"grade": "competent"})
    post("/return", {"returned_on": "2026-11-10"})

    expected = [
        "member.departed",
        "member.details_corrected",
        "member.status_changed",
        "member.status_changed",
        "transfer.letter_issued",
        "transfer.letter_voided",
        "assessment.origin_evaluated",
        "member.status_changed",
    ]

    def all_sent() -> list[Any]:
        got = host.received()
        return got if len(got) >= len(expected) else []

    sent = wait_until(all_sent, message="facts published to the host")
    assert [e.type.removeprefix("cn.liangdi.").rsplit(".v", 1)[0] for e in sent] == expected
    assert all(e.subject == member_id for e in sent)  # nothing about the member at home
    corrected = sent[1].data
    assert corrected["phone"] == "13911112222" and "origin_branch" not in corrected
    assert [e.data.get("status") for e in sent if "status" in e.data] == [
        "lost",
        "restored",
        "returned",
    ]
    # Per-member order: each member-stream fact names its predecessor sent to this host.
    member_stream = [e for e in sent if e.stream == member_id]
    assert [e.prevseq for e in member_stream[1:]] == [e.seq for e in member_stream[:-1]]
    assert HostSide(host.url, OTHER_HOST).received() == []


def test_assessment_with_host_opinion_joint_review_and_confirmation(
    linked: tuple[Api, HostSide],
) -> None:
    api, host = linked
    agree, differ = api.departed(on="2026-01-10"), api.departed(on="2026-01-10")
    path = "/api/v1/members/{}/assessments/2026/{}"
    url = lambda m, step: path.format(m, step)  # noqa: E731

    r = api.c.post(url(agree, "origin-evaluation"), json={"grade": "superb"}, headers=api.h)
    assert r.status_code == 422 and error_code(r) == "assessment.grade_unknown"
    # Users write grades as they say them: 合格 is `competent`, and the view says it in words.
    r = api.c.post(url(agree, "origin-evaluation"), json={"grade": "合格"}, headers=api.h)
    assert r.status_code == 200 and r.json()["origin_grade"] == "competent", r.text
    assert r.json()["labels"]["origin"] == "合格" and r.json()["labels"]["final"] is None
    r = api.c.post(url(agree, "conclusion"), json={"grade": "competent"}, headers=api.h)
    assert r.status_code == 409 and error_code(r) == "assessment.host_opinion_missing"

    for member_id, grade in ((agree, "basically_competent"), (differ, "not_competent")):
        host.send(
            HostEvaluated(**ids(member_id), year=2026, grade=grade, attendance_count=9), member_id
        )
    wait_until(
        lambda: (
            len(api.c.get("/api/v1/assessments?year=2026", headers=api.h).json()) == 2
            and all(
                a["host_grade"]
                for a in api.c.get("/api/v1/assessments?year=2026", headers=api.h).json()
            )
        )
    )
    r = api.c.post(url(agree, "conclusion"), json={"grade": "competent"}, headers=api.h)
    assert r.status_code == 200 and r.json()["state"] == "concluded", r.text
    assert r.json()["host_grade"] == "basically_competent"
    assert r.json()["labels"] | {} == {
        "origin": "合格",
        "host": "基本合格",
        "proposed": r.json()["labels"]["proposed"],
        "final": "合格",
    }

    api.c.post(url(differ, "origin-evaluation"), json={"grade": "competent"}, headers=api.h)
    flagged = api.c.get("/api/v1/assessments?year=2026&state=joint_review", headers=api.h).json()
    assert [a["member_id"] for a in flagged] == [differ]
    listed = api.c.get(
        "/api/v1/members?assessment_year=2026&assessment_state=joint_review", headers=api.h
    ).json()
    assert [m["member_id"] for m in listed["items"]] == [differ]
    r = api.c.post(url(differ, "conclusion"), json={"grade": "not_competent"}, headers=api.h)
    assert r.status_code == 409 and error_code(r) == "assessment.joint_review_pending"
    r = api.c.post(
        url(differ, "conclusion"),
        headers=api.h,
        json={"grade": "not_competent", "resolution": "joint review 2027-01-10"},
    )
    assert r.json()["state"] == "awaiting_confirmation", r.text
    r = api.c.post(url(differ, "confirmation"), headers=api.h)
    assert r.json()["final_grade"] == "not_competent"
    assert r.json()["origin_grade"] == "competent" and r.json()["host_grade"] == "not_competent"

    # The origin's concluded grade is final: a late host opinion is refused, not applied.
    host.send(
        HostEvaluated(**ids(differ), year=2026, grade="excellent", attendance_count=12), differ
    )
    wait_until(lambda: any("assessment.concluded" in d["reason"] for d in host.dead_letters()))
    r = api.c.get(url(differ, "").rstrip("/"), headers=api.h).json()
    assert r["host_grade"] == "not_competent" and r["final_grade"] == "not_competent"
    concluded = wait_until(
        lambda: [e for e in host.received(differ) if "assessment.concluded" in e.type]
    )
    assert concluded[0].data["grade"] == "not_competent"

    # Not competent this year: the member is not eligible for assistance; the host hears why.
    api.c.post(
        f"/api/v1/members/{differ}/contacts",
        json={"kind": "dues", "on": "2026-11-01"},
        headers=api.h,
    )
    host.send(
        AssistanceRequested(
            **ids(differ),
            request_id="R-1",
            amount_fen=5000,
            reason="失业",
            requested_on=date(2026, 11, 2),
        ),
        differ,
    )
    apps = wait_until(lambda: api.c.get("/api/v1/fund/applications", headers=api.h).json()["items"])
    assert apps[0]["status"] == "rejected" and apps[0]["source"] == f"host:{HOST}"
    assert "assistance.ineligible_grade" in apps[0]["rejection_reason"]
    status = wait_until(
        lambda: [e for e in host.received(differ) if "assistance.status_changed" in e.type]
    )
    assert status[0].data["status"] == "rejected" and status[0].data["application_id"] == "R-1"


def test_receipt_from_host_closes_the_record(linked: tuple[Api, HostSide]) -> None:
    api, host = linked
    member_id = api.departed(on="2026-01-10")
    r = api.c.post(
        f"/api/v1/members/{member_id}/transfer-letters",
        headers=api.h,
        json={"receiving_organisation": "张江镇党委", "issued_on": "2026-11-01"},
    )
    letter_no = r.json()["letter_no"]
    host.send(
        TransferReceiptReturned(
            **ids(member_id),
            letter_no=letter_no,
            received_on=date(2026, 11, 5),
            receiving_organisation="张江镇党委",
        ),
        member_id,
    )
    row = wait_until(
        lambda: api.member(member_id)["status"] == "transferred" and api.member(member_id)
    )
    assert row["closed"] and row["letter_state"] == "received"


def test_origin_raised_assistance_is_not_sent_to_the_host(linked: tuple[Api, HostSide]) -> None:
    """The host follows the requests it raised; one the origin raised has nothing to follow."""
    from tests.outflow.test_fund import approved, contribute, eligible_member

    api, host = linked
    contribute(api, 100_000)
    member_id = eligible_member(api)
    approved(api, member_id, 10_000)
    # A later fact of the member marks how far the relay has published.
    api.c.patch(f"/api/v1/members/{member_id}", json={"employer": "后来"}, headers=api.h)
    sent = wait_until(
        lambda: (
            (got := host.received(member_id))
            and got[-1].type.endswith("member.details_corrected.v1")
            and got
        ),
        message="the correction published",
    )
    assert not [e for e in sent if "assistance" in e.type], [e.type for e in sent]
