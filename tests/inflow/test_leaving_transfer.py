"""Leaving the host place, transfer in by introduction letter, ownership of personal details, and
facts from origins that the host must refuse."""

from __future__ import annotations

import random
import uuid

from shared.contracts import events as wire
from tests.inflow.support import (
    HOST,
    ORIGIN,
    OTHER_ORIGIN,
    OriginWire,
    W,
    dead_letters,
    error_code,
    expect,
    inflow,
    report,
)
from tests.support.harness import wait_until


def _letter(member: str, no: str = "371326-L-000001") -> wire.TransferLetterIssued:
    return wire.TransferLetterIssued(
        member_id=member,
        origin_place=ORIGIN,
        host_place=HOST,
        letter_no=no,
        receiving_organisation="张江软件园流动党员党支部",
        issued_on="2026-05-01",
        valid_until="2026-07-31",
    )


def test_transfer_in_makes_the_host_the_owner(pg_database_url: str, nats_server) -> None:
    origin, rng = OriginWire(nats_server.url), random.Random(30)
    with inflow(pg_database_url, nats_server.url) as host:
        member = origin.depart(rng)
        record = expect(host, member)
        report(host, record)
        details = f"/api/v1/members/{record['member_id']}/details"
        owned = host.patch(details, json={"phone": "13700000000"}, headers=W)
        assert owned.status_code == 403 and error_code(owned) == "member.origin_owned"
        rid = host.patch(details, json={"resident_id": "371326199001011234"}, headers=W)
        assert rid.status_code == 422 and error_code(rid) == "request.invalid"

        origin.send(_letter(member, "371326-L-000001"), member_id=member)
        origin.send(
            wire.TransferLetterVoided(
                member_id=member,
                origin_place=ORIGIN,
                host_place=HOST,
                letter_no="371326-L-000001",
                reason="reissued",
            ),
            member_id=member,
        )
        origin.send(_letter(member, "371326-L-000002"), member_id=member)
        wait_until(
            lambda: (
                host.get(f"/api/v1/members/{member}", headers=W).json()["letter_no"]
                == "371326-L-000002"
            ),
            message="letter received",
        )
        receipt = f"/api/v1/members/{record['member_id']}/transfer-receipt"
        voided = host.post(
            receipt, json={"letter_no": "371326-L-000001", "received_on": "2026-05-10"}, headers=W
        )
        assert voided.status_code == 422 and error_code(voided) == "transfer.no_letter"
        expired = host.post(
            receipt, json={"letter_no": "371326-L-000002", "received_on": "2026-08-10"}, headers=W
        )
        assert error_code(expired) == "transfer.letter_expired"

        received = host.post(
            receipt, json={"letter_no": "371326-L-000002", "received_on": "2026-05-10"}, headers=W
        )
        assert received.status_code == 204, received.text
        now = host.get(f"/api/v1/members/{member}", headers=W).json()
        assert now["status"] == "received" and now["letter_no"] is None
        facts = wait_until(
            lambda: origin.facts_of_type("transfer.receipt_returned"),
            message="receipt at the origin",
        )
        assert (facts[0]["member_id"], facts[0]["letter_no"]) == (member, "371326-L-000002")

        edited = host.patch(details, json={"phone": "13700000000", "employer": "新单位"}, headers=W)
        assert edited.status_code == 204, edited.text
        shown = host.get(f"/api/v1/members/{member}", headers=W).json()
        assert shown["employer"] == "新单位" and shown["phone_masked"] == "137****0000"
        # The origin no longer writes this record.
        origin.send(
            wire.MemberDetailsCorrected(
                member_id=member, origin_place=ORIGIN, host_place=HOST, employer="旧单位"
            ),
            member_id=member,
        )
        reasons = wait_until(lambda: dead_letters(nats_server.url), message="refused")
        assert "inbound.record_transferred" in reasons[0]
        assert host.get(f"/api/v1/members/{member}", headers=W).json()["employer"] == "新单位"


def test_leaving_and_the_origins_status(pg_database_url: str, nats_server) -> None:
    origin, rng = OriginWire(nats_server.url), random.Random(31)
    with inflow(pg_database_url, nats_server.url) as host:
        a, b = origin.depart(rng), origin.depart(rng)
        ra, rb = expect(host, a), expect(host, b)
        report(host, ra, on="2026-03-05")
        report(host, rb, on="2026-03-05")
        leave = f"/api/v1/members/{ra['member_id']}/leave"
        early = host.post(leave, json={"left_on": "2026-03-01", "reason": "moved_on"}, headers=W)
        assert error_code(early) == "leaving.before_arrival"
        left = host.post(
            leave,
            json={"left_on": "2026-06-30", "reason": "moved_on", "destination": "苏州"},
            headers=W,
        )
        assert left.status_code == 204, left.text
        twice = host.post(leave, json={"left_on": "2026-07-01", "reason": "other"}, headers=W)
        assert twice.status_code == 409
        after = host.post(
            "/api/v1/activities",
            headers=W,
            json={
                "kind": "service",
                "title": "志愿服务",
                "held_on": "2026-07-05",
                "organiser": "社区",
                "attendee_ids": [ra["member_id"]],
            },
        )
        assert error_code(after) == "activity.member_not_hosted"
        facts = wait_until(lambda: origin.facts_of_type("member.left_host"), message="left")
        assert (facts[0]["member_id"], facts[0]["reason"]) == (a, "moved_on")

        origin.send(
            wire.MemberStatusChanged(
                member_id=b,
                origin_place=ORIGIN,
                host_place=HOST,
                status="returned",
                on="2026-07-01",
            ),
            member_id=b,
        )
        wait_until(
            lambda: host.get(f"/api/v1/members/{b}", headers=W).json()["status"] == "left",
            message="return applied",
        )
        shown = host.get(f"/api/v1/members/{b}", headers=W).json()
        assert shown["origin_status"] == "returned" and shown["left_on"] == "2026-07-01"
        present = host.get("/api/v1/members?status=present", headers=W).json()
        assert present["total"] == 0
        # member.left_host goes out only for the host's own act, not for the origin's.
        assert [f["member_id"] for f in origin.facts_of_type("member.left_host")] == [a]


def test_facts_about_members_hosted_elsewhere_are_refused(
    pg_database_url: str, nats_server
) -> None:
    origin, rng = OriginWire(nats_server.url), random.Random(32)
    other = OriginWire(nats_server.url, origin=OTHER_ORIGIN)
    with inflow(pg_database_url, nats_server.url) as host:
        member = origin.depart(rng)
        record = expect(host, member)
        report(host, record)
        stranger = str(uuid.uuid4())
        # Another county claims our member; an origin writes about someone not hosted here; a
        # fact names another host in its body.
        other.send(
            wire.MemberDetailsCorrected(
                member_id=member, origin_place=OTHER_ORIGIN, host_place=HOST, name="冒名"
            ),
            member_id=member,
        )
        origin.send(_letter(stranger), member_id=stranger)
        origin.send(
            wire.MemberDetailsCorrected(
                member_id=member, origin_place=ORIGIN, host_place="310112", name="冒名"
            ),
            member_id=member,
        )
        reasons = wait_until(
            lambda: len(r := dead_letters(nats_server.url)) == 3 and r, message="three refusals"
        )
        joined = " | ".join(reasons)
        for code in ("inbound.wrong_origin", "inbound.not_hosted_here", "inbound.wrong_host"):
            assert code in joined, joined
        assert host.get(f"/api/v1/members/{member}", headers=W).json()["name"] == record["name"]
        assert host.get("/api/v1/members", headers=W).json()["total"] == 1
