"""Transfer of membership (组织关系转接) closing at both places, across a real origin, a real host
and the exchange's reconciliation (docs/flows.md, "Transfer of membership").

Member A's receipt (回执) comes back on paper and is recorded at the origin; member B's host
returns the receipt itself. Either way the origin's record closes with its history, the host owns
the record (its edits work), nothing is dead-lettered at either place, and the reconciliation
finds every member owned by exactly one place.
"""

from __future__ import annotations

import random
from typing import Any

from tests.inflow.support import dead_letters
from tests.support.backends import drop_schema
from tests.support.factories import departure_body, member_body
from tests.support.harness import auth, running, settings_for, wait_until

ORIGIN, HOST = "371326", "310115"
ORIGIN_OP, HOST_OP = auth("origin_operator", ORIGIN), auth("host_operator", HOST)
ADMIN = auth("sync_admin")
ORG = "张江镇流动党员党支部"
# Far enough ahead that a letter without its receipt shows as a mismatch.
LATER = "2027-12-31"


def _hosted_and_lettered(out: Any, inn: Any, rng: random.Random) -> tuple[str, str, str]:
    """A member departed to HOST, reported there, with an open letter the host has seen."""
    created = out.post("/api/v1/members", json=member_body(rng), headers=ORIGIN_OP)
    assert created.status_code == 201, created.text
    member_id = created.json()["member_id"]
    departed = out.post(
        f"/api/v1/members/{member_id}/departures",
        json=departure_body(HOST, rng),
        headers=ORIGIN_OP,
    )
    assert departed.status_code == 201, departed.text

    def hosted() -> dict[str, Any] | None:
        r = inn.get(f"/api/v1/members/{member_id}", headers=HOST_OP)
        return r.json() if r.status_code == 200 else None

    record = wait_until(hosted, message="the departure at the host")
    reported = inn.post(
        f"/api/v1/members/{record['member_id']}/report",
        json={"certificate_no": departed.json()["certificate_no"], "reported_on": "2026-03-05"},
        headers=HOST_OP,
    )
    assert reported.status_code == 204, reported.text
    # The report reaches the origin first (a fact arriving meanwhile would make this a 409).
    wait_until(
        lambda: out.get(f"/api/v1/members/{member_id}", headers=ORIGIN_OP).json()["reported_on"],
        message="the report at the origin",
    )
    letter = out.post(
        f"/api/v1/members/{member_id}/transfer-letters",
        json={"receiving_organisation": ORG, "issued_on": "2026-09-01"},
        headers=ORIGIN_OP,
    )
    assert letter.status_code == 201, letter.text
    letter_no = letter.json()["letter_no"]
    wait_until(
        lambda: hosted()["letter_no"] == letter_no,  # type: ignore[index]
        message="the letter at the host",
    )
    return member_id, record["member_id"], letter_no


def _edit(inn: Any, record_id: str) -> Any:
    return inn.patch(
        f"/api/v1/members/{record_id}/details", json={"employer": "张江新单位"}, headers=HOST_OP
    )


def _closed_at_origin(out: Any, member_id: str) -> dict[str, Any] | None:
    row = out.get(f"/api/v1/members/{member_id}", headers=ORIGIN_OP).json()
    return row if row["status"] == "transferred" else None


def test_a_receipt_on_paper_or_from_the_host_leaves_one_owner(
    postgres_url: str, pg_database_url: str, nats_server
) -> None:
    base, schema = pg_database_url.split("?")[0], pg_database_url.split("schema=")[1]
    origin = settings_for("outflow", f"{base}?schema={schema}_o", nats_server.url, ORIGIN)
    host = settings_for("inflow", f"{base}?schema={schema}_h", nats_server.url, HOST)
    exchange = settings_for("sync", f"{base}?schema={schema}_s", nats_server.url)
    rng = random.Random(1101)
    try:
        with (
            running("outflow", origin) as out,
            running("inflow", host) as inn,
            running("sync", exchange) as sync,
        ):

            def mismatches(**params: Any) -> dict[str, Any]:
                r = sync.get(
                    "/admin/reconciliation/mismatches",
                    params={"as_of": LATER, **params},
                    headers=ADMIN,
                )
                assert r.status_code == 200, r.text
                return r.json()

            a, a_record, a_letter = _hosted_and_lettered(out, inn, rng)
            b, b_record, b_letter = _hosted_and_lettered(out, inn, rng)
            # The exchange has seen both letters: each is open, receipt outstanding.
            wait_until(
                lambda: mismatches(kind="transfer_letter_not_received")["total"] == 2,
                message="both letters seen by the reconciliation",
            )
            refused = _edit(inn, a_record)
            assert refused.status_code == 403, refused.text  # the origin's record still

            # A: the receipt on paper at the origin must name the letter's organisation.
            receipt = f"/api/v1/members/{a}/transfer-letters/{a_letter}/receipt"
            wrong = out.post(
                receipt,
                json={"received_on": "2026-09-10", "receiving_organisation": "张江镇党委"},
                headers=ORIGIN_OP,
            )
            assert wrong.status_code == 422, wrong.text
            assert wrong.json()["error"]["code"] == "transfer.receipt_wrong_organisation"
            assert out.get(f"/api/v1/members/{a}", headers=ORIGIN_OP).json()["status"] == (
                "departed"
            )
            right = out.post(
                receipt,
                json={"received_on": "2026-09-10", "receiving_organisation": ORG},
                headers=ORIGIN_OP,
            )
            assert right.status_code == 200, right.text
            assert right.json()["state"] == "received"
            row = _closed_at_origin(out, a)
            assert row is not None and row["closed"] is True
            timeline = out.get(f"/api/v1/members/{a}/timeline", headers=ORIGIN_OP).json()
            assert timeline[-1]["type"] == "TransferReceived"  # history kept

            wait_until(
                lambda: (
                    inn.get(f"/api/v1/members/{a}", headers=HOST_OP).json()["status"] == "received"
                ),
                message="the host takes member A over",
            )
            edited = _edit(inn, a_record)
            assert edited.status_code == 204, edited.text
            shown = inn.get(f"/api/v1/members/{a}", headers=HOST_OP).json()
            assert shown["employer"] == "张江新单位"
            # The host received A already: its own receipt now is refused, not doubled.
            again = inn.post(
                f"/api/v1/members/{a_record}/transfer-receipt",
                json={"letter_no": a_letter, "received_on": "2026-09-11"},
                headers=HOST_OP,
            )
            assert again.status_code == 409, again.text

            # B: the host returns the receipt itself; the origin closes on it.
            returned = inn.post(
                f"/api/v1/members/{b_record}/transfer-receipt",
                json={"letter_no": b_letter, "received_on": "2026-09-12"},
                headers=HOST_OP,
            )
            assert returned.status_code == 204, returned.text
            closed = wait_until(lambda: _closed_at_origin(out, b), message="B closed at origin")
            assert closed["letter_state"] == "received"
            assert _edit(inn, b_record).status_code == 204

            # Each member has exactly one owner: no mismatch of any kind is left.
            wait_until(
                lambda: mismatches()["total"] == 0,
                message="the reconciliation agrees: one owner each",
            )
            report = sync.get(
                "/admin/reconciliation", params={"as_of": LATER}, headers=ADMIN
            ).json()
            kinds = report["mismatches"]["by_kind"]
            assert kinds["owned_by_none"] == 0 and kinds["owned_by_two"] == 0
            # Both sides applied every fact, the echoes of each receipt included: per member
            # departure, letter and receipt go out (3), report and receipt come back (2).
            wait_until(lambda: _settled(sync, o2h=6, h2o=4), message="every fact delivered")
            assert dead_letters(nats_server.url, HOST) == []
            assert _origin_dead_letters(nats_server.url) == []
    finally:
        for suffix in ("_o", "_h", "_s"):
            drop_schema(postgres_url, schema + suffix)


def _settled(sync: Any, **at_least: int) -> bool:
    links = sync.get("/admin/links", headers=auth("auditor")).json()["links"]
    done = {
        link["direction"]
        for link in links
        if link["published"] >= at_least.get(link["direction"], 0)
        and link["applied"] + link["duplicates"] + link["dead_lettered"] >= link["published"]
    }
    return len(links) == 2 and done == {"o2h", "h2o"}


def _origin_dead_letters(nats_url: str) -> list[str]:
    import asyncio

    from shared.messaging.topology import deadletter_subject
    from tests.inflow.support import read_subject

    messages = asyncio.run(
        read_subject(nats_url, deadletter_subject("outflow", ORIGIN), "LIANGDI_DEADLETTER")
    )
    return [headers.get("Liangdi-Reason", "") for _, headers in messages]
