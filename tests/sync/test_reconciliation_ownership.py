"""Reconciliation flags a member owned by no place or by two after a transfer (组织关系转接).

The origin owns its member until it records the receipt (`transfer.receipt_recorded`); the host
owns it once it has received them (`transfer.receipt_returned`). Whatever order the two facts
are observed in, once both are in exactly one place owns the member; a host that let the member
go before the origin recorded the receipt leaves nobody owning them, and that is flagged.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import date
from typing import Any

from services.sync.domain.membership import MembershipPair
from shared.contracts.envelope import H2O, O2H
from shared.contracts.events import (
    MemberLeftHost,
    MemberReported,
    TransferLetterIssued,
    TransferReceiptRecorded,
    TransferReceiptReturned,
)
from tests.support.backends import NatsServer
from tests.support.harness import auth, running, settings_for, wait_until
from tests.sync.test_reconciliation import HOST, ORIGIN, departed
from tests.sync.test_reconciliation_wire import Wire

ADMIN = auth("sync_admin")
BOTH = {"origin_place": ORIGIN, "host_place": HOST}
RECEIPT = {"letter_no": "L-9", "received_on": "2026-09-10", "receiving_organisation": "张江党委"}


def _ownership(pair: MembershipPair) -> list[str]:
    found = pair.mismatches(reporting_deadline_days=30, receipt_due_days=30)
    return sorted(m["kind"] for m in found if m["kind"].startswith("owned_by"))


def test_the_order_of_the_two_receipts_does_not_matter() -> None:
    steps = {
        "origin": lambda p: p.receipt_recorded(
            host_place=HOST, letter_no="L-9", received_on=date(2026, 9, 10), evidence={}
        ),
        "host": lambda p: p.receipt_returned(
            host_place=HOST, letter_no="L-9", received_on=date(2026, 9, 10), evidence={}
        ),
    }
    alone = {"origin": ["owned_by_none"], "host": ["owned_by_two"]}
    for order in itertools.permutations(steps):
        pair = MembershipPair(origin_place=ORIGIN, member_id="m-1")
        pair.origin_departed(host_place=HOST, departed_on=date(2026, 3, 1), evidence={})
        pair.host_reported(host_place=HOST, reported_on=date(2026, 3, 5), evidence={})
        assert _ownership(pair) == [] and pair.owners() == [ORIGIN]
        steps[order[0]](pair)
        assert _ownership(pair) == alone[order[0]], order
        steps[order[1]](pair)
        assert _ownership(pair) == [] and pair.owners() == [HOST], order


def test_a_member_owned_by_no_place_is_flagged(
    pg_database_url: str, nats_server: NatsServer
) -> None:
    wire = Wire(nats_server.url)
    gone, moved = str(uuid.uuid4()), str(uuid.uuid4())
    hosted = {gone: str(uuid.uuid4()), moved: str(uuid.uuid4())}
    # The projector polls once a minute here: a read must catch the read model up itself.
    settings = settings_for("sync", pg_database_url, nats_server.url, poll_interval=60.0)
    with running("sync", settings) as sync:

        def ownership(kind: str) -> dict[str, Any]:
            r = sync.get(
                "/admin/reconciliation/mismatches",
                params={"as_of": "2026-12-31", "kind": kind},
                headers=ADMIN,
            )
            assert r.status_code == 200, r.text
            return r.json()

        for member in (gone, moved):
            wire.send(departed(member), direction=O2H, stream=member)
            wire.send(
                MemberReported(
                    member_id=member, reported_on="2026-03-05", certificate_no="c", **BOTH
                ),
                direction=H2O,
                stream=hosted[member],
            )
            wire.send(
                TransferLetterIssued(
                    member_id=member,
                    letter_no="L-9",
                    receiving_organisation="张江党委",
                    issued_on="2026-09-01",
                    valid_until="2026-11-30",
                    **BOTH,
                ),
                direction=O2H,
                stream=member,
            )
        # `gone` left the host before the origin recorded its receipt: the host cannot take
        # the record over, the origin has closed it.
        wire.send(
            MemberLeftHost(member_id=gone, left_on="2026-09-05", reason="moved_on", **BOTH),
            direction=H2O,
            stream=hosted[gone],
        )
        closing = wire.send(
            TransferReceiptRecorded(member_id=gone, **RECEIPT, **BOTH), direction=O2H, stream=gone
        )
        # `moved` is received at both places: one owner.
        wire.send(
            TransferReceiptRecorded(member_id=moved, **RECEIPT, **BOTH), direction=O2H, stream=moved
        )
        wire.send(
            TransferReceiptReturned(member_id=moved, **RECEIPT, **BOTH),
            direction=H2O,
            stream=hosted[moved],
        )

        wait_until(lambda: ownership("owned_by_none")["items"], message="the member nobody owns")
        wait_until(
            lambda: (
                sync.get("/admin/reconciliation", params={"as_of": "2026-12-31"}, headers=ADMIN)
                .json()["reconciler"]["counts"]
                .get("applied", 0)
                >= 10
            ),
            message="every fact observed",
        )
        # A read after the reconciler's count sees every fact counted. `moved` was owned by
        # nobody between its two receipts; once both are in, only `gone` is flagged.
        flagged = ownership("owned_by_none")["items"]
        assert [(m["member_id"], m["host_place"]) for m in flagged] == [(gone, HOST)]
        item = flagged[0]
        assert item["since"] == "2026-09-10" and "as left" in item["detail"]
        assert closing.id in [e["event_id"] for e in item["evidence"]]
        assert ownership("owned_by_two")["total"] == 0
        report = sync.get("/admin/reconciliation", params={"as_of": "2026-12-31"}, headers=ADMIN)
        assert report.json()["mismatches"]["by_kind"]["owned_by_none"] == 1
        # Before the receipt's date nothing was wrong yet.
        early = sync.get(
            "/admin/reconciliation/mismatches",
            params={"as_of": "2026-09-09", "kind": "owned_by_none"},
            headers=ADMIN,
        )
        assert early.json()["total"] == 0
