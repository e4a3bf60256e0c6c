"""Keeps the origin's read models (tables.py) up to date from the notification log.

One projector, several tables, one position: each row is written from the aggregate as it stood
at the event's version (so the read model can never disagree with the domain's rules), and the
ledger gets one entry per fund event. Masking happens here: rows hold no clear personal data.
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
    metadata,
)
from services.outflow.domain.arrivals import UnannouncedArrival
from services.outflow.domain.assessment import Assessment
from services.outflow.domain.base import MemberBase
from services.outflow.domain.fund import AssistanceFund
from services.outflow.domain.payouts import PayoutApplication
from services.outflow.domain.status import CLOSED
from shared.projection import Projector, upsert
from shared.validation import mask_phone, mask_resident_id

_LEDGER_KINDS = {
    AssistanceFund.ContributionReceived: "contribution",
    AssistanceFund.AmountReserved: "reservation",
    AssistanceFund.ReservationReleased: "release",
    AssistanceFund.Disbursed: "disbursement",
}


class OutflowProjector(Projector):
    # v2: the first slice's table had fewer columns; a new name rebuilds it once, from 0.
    name = "projection:outflow:v2"
    metadata = metadata

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.handled_since_start = 0

    def handle(self, conn: sa.Connection, event: Any) -> None:
        self.handled_since_start += 1
        if isinstance(event, MemberBase.Event):
            self._member(conn, event)
        elif isinstance(event, Assessment.Event):
            self._assessment(conn, event)
        elif isinstance(event, PayoutApplication.Event):
            self._application(conn, event)
        elif isinstance(event, AssistanceFund.Event):
            self._fund(conn, event)
        elif isinstance(event, UnannouncedArrival.Event):
            self._arrival(conn, event)

    def _at(self, event: Any) -> Any:
        return self.app.repository.get(event.originator_id, version=event.originator_version)

    def _member(self, conn: sa.Connection, event: Any) -> None:
        m = self._at(event)
        rules = getattr(self.app, "rules", None)
        interval = rules.verification_interval_days if rules else 92
        letter = m.letters[-1] if m.letters else None
        row = {
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
            "letter_no": letter["letter_no"] if letter else None,
            "letter_state": letter["state"] if letter else None,
            "letter_issued_on": letter["issued_on"] if letter else None,
            "letter_valid_until": letter["valid_until"] if letter else None,
            "letter_received_on": letter["received_on"] if letter else None,
            "closed": m.status in CLOSED,
            "registered_at": m.created_on,
            "updated_at": event.timestamp,
            "version": event.originator_version,
        }
        upsert(conn, members, {"member_id": str(m.id)}, row)

    def _assessment(self, conn: sa.Connection, event: Any) -> None:
        a = self._at(event)
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

    def _application(self, conn: sa.Connection, event: Any) -> None:
        a = self._at(event)
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
        f = self._at(event)
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

    def _arrival(self, conn: sa.Connection, event: Any) -> None:
        a = self._at(event)
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
