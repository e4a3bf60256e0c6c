"""Keeps the origin's read models (tables.py) up to date from the notification log.

Four independent read models, each with its own position (members, assessments, the fund with
its ledger and payout applications, unannounced arrivals), so that an event one of them cannot
hold halts only that one (see docs/operations.md, "Read models"). Each row is written from the
aggregate as it stood at the event's version (so the read model can never disagree with the
domain's rules), and the ledger gets one entry per fund event. Masking happens here: rows hold
no clear personal data.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from services.outflow.adapters.tables import (
    applications,
    arrivals,
    assessments,
    fund,
    ledger,
    members,
)
from services.outflow.domain.arrivals import UnannouncedArrival
from services.outflow.domain.assessment import Assessment
from services.outflow.domain.base import MemberBase
from services.outflow.domain.fund import AssistanceFund
from services.outflow.domain.payouts import PayoutApplication
from services.outflow.domain.status import CLOSED
from shared.projection import ReadModel, upsert
from shared.validation import mask_phone, mask_resident_id

_LEDGER_KINDS = {
    AssistanceFund.ContributionReceived: "contribution",
    AssistanceFund.AmountReserved: "reservation",
    AssistanceFund.ReservationReleased: "release",
    AssistanceFund.Disbursed: "disbursement",
}


# The single projector these were split from kept its rows current to this position.
LEGACY = "projection:outflow:v2"


def member_row(app: Any, m: Any, *, updated_at: Any, version: int) -> dict[str, Any]:
    """The member's row as the read model holds it (also served straight from the aggregate
    while the read model is behind: a write is never answered from a stale or missing row)."""
    rules = getattr(app, "rules", None)
    interval = rules.verification_interval_days if rules else 92
    letter = m.letters[-1] if m.letters else None
    letter_no = letter["letter_no"] if letter else None
    return {
        "name": m.name,
        "resident_id_masked": mask_resident_id(m.resident_id),
        "phone_masked": mask_phone(m.phone),
        "sex": m.sex,
        "origin_branch": m.origin_branch,
        "status": str(m.status),
        "host_place": m.host_place,
        "certificate_no": m.certificate_no,
        "employer": m.employer or None,
        "departed_on": m.departed_on,
        "expected_months": m.expected_months or None,
        "reported_on": m.reported_on,
        "returned_on": m.returned_on,
        "last_contact_on": m.contact_clock_since(),
        "last_verified_on": m.last_verified_on,
        "next_check_due": m.next_check_due(interval),
        "lost_reason": m.lost_reason,
        "lost_on": m.lost_on,
        "suspended_on": m.suspended_on,
        "host_branch": m.host_branch,
        "reporting_overdue_since": m.reporting_overdue_since,
        "left_host_on": m.left_host_on,
        "letter_no": letter_no,
        "letter_state": letter["state"] if letter else None,
        "letter_issued_on": letter["issued_on"] if letter else None,
        "letter_valid_until": letter["valid_until"] if letter else None,
        "letter_received_on": letter["received_on"] if letter else None,
        "closed": m.status in CLOSED,
        "registered_at": m.created_on,
        "updated_at": updated_at,
        "version": version,
    }


class Members(ReadModel):
    name = "members"
    tables = (members,)
    handles = (MemberBase.Event,)
    legacy_position = LEGACY

    def handle(self, conn: sa.Connection, event: Any) -> None:
        m = self.at(event)
        row = member_row(self.app, m, updated_at=event.timestamp, version=event.originator_version)
        upsert(conn, members, {"member_id": str(m.id)}, row)


class Assessments(ReadModel):
    name = "assessments"
    tables = (assessments,)
    handles = (Assessment.Event,)
    legacy_position = LEGACY

    def handle(self, conn: sa.Connection, event: Any) -> None:
        a = self.at(event)
        row = {
            "member_id": str(a.member_id),
            "year": a.year,
            "state": a.state,
            "origin_grade": a.origin_grade,
            "host_grade": a.host_grade,
            "host_place": a.host_place,
            "attendance_count": a.attendance_count,
            "joint_review": a.joint_review,
            "proposed_grade": a.proposed_grade,
            "final_grade": a.final_grade,
            "resolution": a.resolution,
            "updated_at": event.timestamp,
        }
        upsert(conn, assessments, {"assessment_id": str(a.id)}, row)


class Fund(ReadModel):
    """The fund, its ledger and the payout applications it pays (one family of money facts)."""

    name = "fund"
    tables = (fund, ledger, applications)
    handles = (AssistanceFund.Event, PayoutApplication.Event)
    legacy_position = LEGACY

    def handle(self, conn: sa.Connection, event: Any) -> None:
        if isinstance(event, AssistanceFund.Event):
            self._fund(conn, event)
        else:
            self._application(conn, event)

    def _application(self, conn: sa.Connection, event: Any) -> None:
        a = self.at(event)
        row = {
            "member_id": str(a.member_id),
            "source": a.source,
            "reference": a.reference,
            "host_place": a.host_place,
            "amount_fen": a.amount_fen,
            "reason": a.reason,
            "status": a.status,
            "requested_on": a.requested_on,
            "notice_from": a.notice_from,
            "notice_until": a.notice_until,
            "paid_on": a.paid_on,
            "rejection_reason": a.rejection_reason or None,
            "created_at": a.created_on,
            "updated_at": event.timestamp,
        }
        upsert(conn, applications, {"application_id": str(a.id)}, row)

    def _fund(self, conn: sa.Connection, event: Any) -> None:
        f = self.at(event)
        upsert(
            conn,
            fund,
            {"county": f.county},
            {
                "balance_fen": f.balance_fen,
                "reserved_fen": f.reserved_fen,
                "contributed_fen": f.contributed_fen,
                "paid_fen": f.paid_fen,
                "version": event.originator_version,
                "updated_at": event.timestamp,
            },
        )
        kind = next((k for cls, k in _LEDGER_KINDS.items() if isinstance(event, cls)), None)
        if kind is None:
            return
        application_id = getattr(event, "application_id", None)
        amount = getattr(event, "amount_fen", None)
        if amount is None:  # a release: the amount is what the previous version had reserved
            before = self.app.repository.get(f.id, version=event.originator_version - 1)
            amount = before.reserved.get(str(application_id), 0)
        upsert(
            conn,
            ledger,
            {"entry_no": event.originator_version},
            {
                "kind": kind,
                "amount_fen": amount,
                "application_id": str(application_id) if application_id else None,
                "contributor": getattr(event, "contributor", None),
                "entry_date": getattr(event, "received_on", None)
                or getattr(event, "paid_on", None),
                "balance_after_fen": f.balance_fen,
                "reserved_after_fen": f.reserved_fen,
                "recorded_by": event.recorded_by,
                "at": event.timestamp,
            },
        )


class Arrivals(ReadModel):
    name = "arrivals"
    tables = (arrivals,)
    handles = (UnannouncedArrival.Event,)
    legacy_position = LEGACY

    def handle(self, conn: sa.Connection, event: Any) -> None:
        a = self.at(event)
        upsert(
            conn,
            arrivals,
            {"arrival_id": str(a.id)},
            {
                "host_place": a.host_place,
                "host_record_id": a.host_record_id,
                "name": a.name,
                "resident_id_masked": mask_resident_id(a.resident_id),
                "phone_masked": mask_phone(a.phone),
                "reported_on": a.reported_on,
                "certificate_no": a.certificate_no,
                "member_id": str(a.member_id) if a.member_id else None,
                "mismatches": ",".join(a.mismatches),
                "confirmed": a.confirmed,
                "reported_at": a.created_on,
                "updated_at": event.timestamp,
            },
        )


READ_MODELS: tuple[type[ReadModel], ...] = (Members, Assessments, Fund, Arrivals)
