"""Two-way membership state: mismatches between origin and host appear, age, and disappear."""

from __future__ import annotations

import uuid
from typing import Any

from shared.contracts.envelope import H2O, O2H
from shared.contracts.events import (
    ArrivalConfirmed,
    ArrivedUnannounced,
    MemberLeftHost,
    MemberReported,
    MemberStatusChanged,
    TransferLetterIssued,
    TransferReceiptRecorded,
    TransferReceiptReturned,
)
from shared.security.signing import Signer, generate_keypair
from tests.support.backends import NatsServer
from tests.support.harness import auth, running, settings_for, wait_until
from tests.sync.test_reconciliation import HOST, ORIGIN, departed
from tests.sync.test_reconciliation_wire import Wire

ADMIN = auth("sync_admin")
BOTH = {"origin_place": ORIGIN, "host_place": HOST}
ZERO = {
    "expected_not_reported": 0,
    "reported_unknown_to_origin": 0,
    "left_host_still_departed": 0,
    "transfer_letter_not_received": 0,
    "owned_by_none": 0,
    "owned_by_two": 0,
}


def test_mismatches_appear_with_age_and_evidence_and_disappear(
    pg_database_url: str, nats_server: NatsServer
) -> None:
    keys = {place: generate_keypair() for place in (ORIGIN, HOST)}
    signers = {place: Signer(place, private) for place, (private, _) in keys.items()}
    roles = {ORIGIN: "origin", HOST: "host"}
    trusted = ",".join(f"{roles[p]}:{p}={public}" for p, (_, public) in keys.items())
    wire = Wire(nats_server.url, signers)
    quiet, late, gone, letter = (str(uuid.uuid4()) for _ in range(4))
    hosted = {name: str(uuid.uuid4()) for name in ("late", "gone", "letter")}
    settings = settings_for("sync", pg_database_url, nats_server.url, trusted_keys=trusted)
    with running("sync", settings) as sync:

        def mismatches(as_of: str, **params: Any) -> dict[str, Any]:
            response = sync.get(
                "/admin/reconciliation/mismatches", params={"as_of": as_of, **params}, headers=ADMIN
            )
            assert response.status_code == 200, response.text
            return response.json()

        def kinds(as_of: str) -> dict[str, int]:
            return sync.get("/admin/reconciliation", params={"as_of": as_of}, headers=ADMIN).json()[
                "mismatches"
            ]["by_kind"]

        departure = wire.send(departed(late), direction=O2H, stream=late)
        wire.send(departed(gone), direction=O2H, stream=gone)
        wire.send(departed(letter), direction=O2H, stream=letter)
        wire.send(
            MemberReported(member_id=gone, reported_on="2026-03-04", certificate_no="c", **BOTH),
            direction=H2O,
            stream=hosted["gone"],
        )
        wire.send(
            MemberReported(member_id=letter, reported_on="2026-03-04", certificate_no="c", **BOTH),
            direction=H2O,
            stream=hosted["letter"],
        )
        wire.send(
            MemberLeftHost(member_id=gone, left_on="2026-05-02", reason="returned_home", **BOTH),
            direction=H2O,
            stream=hosted["gone"],
        )
        wire.send(
            ArrivedUnannounced(
                host_record_id="h-77",
                origin_place=ORIGIN,
                host_place=HOST,
                name="李强",
                resident_id="371326199001011234",
                phone="13900000000",
                reported_on="2026-04-01",
            ),
            direction=H2O,
            stream="h-77",
        )
        wire.send(
            TransferLetterIssued(
                member_id=letter,
                letter_no="L-1",
                receiving_organisation="张江党委",
                issued_on="2026-05-10",
                valid_until="2026-08-10",
                **BOTH,
            ),
            direction=O2H,
            stream=letter,
        )
        # Forged: claims to come from the origin but is signed with a key nobody trusts.
        forger = Signer(ORIGIN, generate_keypair()[0])
        wire.publish(wire.envelope(departed(quiet), direction=O2H, stream=quiet, signer=forger))

        wait_until(lambda: sum(kinds("2026-12-31").values()) == 4, message="four mismatches")
        assert kinds("2026-03-31") == ZERO
        # Departed 03-01, reporting deadline 30 days: late from 04-01, not on 03-31.
        assert kinds("2026-04-01")["expected_not_reported"] == 1
        at = mismatches("2026-06-15")
        by_kind = {item["kind"]: item for item in at["items"]}
        assert set(by_kind) == {
            "expected_not_reported",
            "reported_unknown_to_origin",
            "left_host_still_departed",
            "transfer_letter_not_received",
        }
        not_reported = by_kind["expected_not_reported"]
        assert not_reported["member_id"] == late and not_reported["age_days"] == 106
        assert [e["event_id"] for e in not_reported["evidence"]] == [departure.id]
        assert by_kind["reported_unknown_to_origin"]["host_record_id"] == "h-77"
        assert by_kind["left_host_still_departed"]["member_id"] == gone
        assert "receipt overdue" in by_kind["transfer_letter_not_received"]["detail"]
        assert mismatches("2026-06-15", kind="left_host_still_departed")["total"] == 1
        assert mismatches("2026-06-15", place="310112")["total"] == 0
        assert "李强" not in str(at) and "13900000000" not in str(at)
        status = sync.get("/admin/reconciliation", headers=ADMIN).json()["reconciler"]
        assert any(r["reason"].startswith("signature") for r in status["recent_rejections"])
        assert quiet not in str(mismatches("2026-12-31"))

        # Each side's answer resolves its mismatch.
        wire.send(
            MemberReported(member_id=late, reported_on="2026-06-20", certificate_no="c", **BOTH),
            direction=H2O,
            stream=str(uuid.uuid4()),
        )
        wire.send(
            MemberStatusChanged(member_id=gone, status="returned", on="2026-05-20", **BOTH),
            direction=O2H,
            stream=gone,
        )
        wire.send(
            ArrivalConfirmed(member_id=str(uuid.uuid4()), host_record_id="h-77", **BOTH),
            direction=O2H,
            stream=str(uuid.uuid4()),
        )
        wire.send(
            TransferReceiptReturned(
                member_id=letter,
                letter_no="L-1",
                received_on="2026-06-01",
                receiving_organisation="张江党委",
                **BOTH,
            ),
            direction=H2O,
            stream=hosted["letter"],
        )
        # Until the origin closes its record on that receipt, two places own the member.
        wait_until(lambda: kinds("2026-12-31") == {**ZERO, "owned_by_two": 1}, message="two")
        wire.send(
            TransferReceiptRecorded(
                member_id=letter,
                letter_no="L-1",
                received_on="2026-06-01",
                receiving_organisation="张江党委",
                **BOTH,
            ),
            direction=O2H,
            stream=letter,
        )
        wait_until(lambda: sum(kinds("2026-12-31").values()) == 0, message="all resolved")
