"""The host's read models, kept from the notification log by three independent read models,
each with its own position (members with their attendance, branches with activities,
evaluations with assistance requests): an event one cannot hold halts only that one (see
docs/operations.md, "Read models").

No plaintext resident ID, phone or address is stored here: lists show masked values only.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from services.inflow.adapters import practice_views
from services.inflow.adapters.tables import (
    activities,
    assistance,
    attendance,
    branch_states,
    branches,
    evaluations,
    members,
)
from services.inflow.domain.activity import Activity
from services.inflow.domain.assistance import AssistanceRequest
from services.inflow.domain.branch import MobileBranch
from services.inflow.domain.evaluation import HostEvaluation
from services.inflow.domain.member import GONE_BY_ORIGIN, HostedMember, HostStatus
from shared.projection import ReadModel
from shared.row_writes import insert_row, update_row, upsert
from shared.validation import mask_phone, mask_resident_id

M = HostedMember


# The single projector these were split from kept its rows current to this position.
LEGACY = "projection:inflow:v2"


class Members(ReadModel):
    name = "members"
    tables = (members, attendance)
    # The two creation events derive from Aggregate.Created, not from HostedMember.Event.
    handles = (HostedMember.Event, M.ArrivalExpected, M.ArrivedUnannounced)
    legacy_position = LEGACY

    def handle(self, conn: sa.Connection, event: Any) -> None:
        key = str(event.originator_id)
        if isinstance(event, M.ArrivalExpected | M.ArrivedUnannounced):
            self._created(conn, key, event)
            return
        values = self._member_values(conn, key, event)
        if values is not None:
            update_row(conn, members, {"member_id": key}, values | {"updated_at": event.timestamp})

    def _created(self, conn: sa.Connection, key: str, event: Any) -> None:
        unannounced = isinstance(event, M.ArrivedUnannounced)
        values = {
            "origin_member_id": None if unannounced else event.origin_member_id,
            "origin_place": event.origin_place,
            "name": event.name,
            "resident_id_masked": mask_resident_id(event.resident_id),
            "phone_masked": mask_phone(event.phone),
            "employer": event.employer,
            "locality": event.locality if unannounced else "",
            "status": HostStatus.REPORTED if unannounced else HostStatus.EXPECTED,
            "arrival": "unannounced" if unannounced else "announced",
            "confirmed": not unannounced,
            "certificate_no": event.certificate_no,
            "departed_on": None if unannounced else event.departed_on,
            "reported_on": event.reported_on if unannounced else None,
            "expected_since": event.timestamp,
            "updated_at": event.timestamp,
        }
        upsert(conn, members, {"member_id": key}, values)

    def _member_values(self, conn: sa.Connection, key: str, event: Any) -> dict[str, Any] | None:
        if isinstance(event, M.Reported):
            return {
                "status": "reported",
                "reported_on": event.reported_on,
                "locality": event.locality,
            }
        if isinstance(event, M.ReportingOverdue):
            return {"overdue_flagged_for": event.due_on}
        if isinstance(event, M.BranchAssigned):
            return {"branch_id": event.branch_id, "branch_name": event.branch_name}
        if isinstance(event, M.BranchLeft):
            return {"branch_id": None, "branch_name": ""}
        if isinstance(event, M.Attended):
            row = {
                "activity_id": event.activity_id,
                "member_id": key,
                "kind": event.kind,
                "title": event.title,
                "held_on": event.held_on,
                "year": event.held_on.year,
                "organiser": event.organiser,
            }
            insert_row(conn, attendance, row)
            return None
        if isinstance(event, M.LeftHost):
            return {
                "status": "left",
                "left_on": event.left_on,
                "branch_id": None,
                "branch_name": "",
            }
        if isinstance(event, M.TransferLetterReceived):
            return {"letter_no": event.letter_no, "letter_valid_until": event.valid_until}
        if isinstance(event, M.TransferLetterVoided):
            return {"letter_no": None, "letter_valid_until": None}
        if isinstance(event, M.ReceiptReturned):
            return {"status": "received", "letter_no": None, "letter_valid_until": None}
        if isinstance(event, M.DepartureLinked):
            # An unannounced arrival's departure (docs/flows.md, "Unannounced arrival").
            return {"departed_on": event.departed_on, "certificate_no": event.certificate_no}
        if isinstance(event, M.OriginConfirmed):
            values: dict[str, Any] = {"origin_member_id": event.origin_member_id, "confirmed": True}
            if event.certificate_no:
                values["certificate_no"] = event.certificate_no
            return values
        if isinstance(event, M.DetailsCorrected):
            changes = dict(event.changes)
            masked = {k: v for k, v in changes.items() if k in ("name", "employer")}
            if "phone" in changes:
                masked["phone_masked"] = mask_phone(changes["phone"])
            masked |= {k: v for k, v in changes.items() if k == "certificate_no"}  # reissued
            return masked
        if isinstance(event, M.OriginStatusChanged):
            values = {"origin_status": event.status}
            if event.status in GONE_BY_ORIGIN:
                values.update(status="left", left_on=event.on, branch_id=None, branch_name="")
            return values
        if isinstance(event, M.ExpectedAgain):
            return {
                "status": "expected",
                "employer": event.employer,
                "certificate_no": event.certificate_no,
                "departed_on": event.departed_on,
                "reported_on": None,
                "left_on": None,
                "overdue_flagged_for": None,
                "expected_since": event.timestamp,
            }
        return None


class Branches(ReadModel):
    """Mobile branches and the activities they hold."""

    name = "branches"
    tables = (branches, activities, branch_states)
    handles = (MobileBranch.Event, Activity.Event)
    legacy_position = LEGACY

    def handle(self, conn: sa.Connection, event: Any) -> None:
        key, at = str(event.originator_id), event.timestamp
        if isinstance(event, MobileBranch.Formed):
            conn.execute(
                branches.insert().values(
                    branch_id=key,
                    name=event.name,
                    kind=event.kind,
                    basis=event.basis,
                    basis_value=event.basis_value,
                    approved_by=event.approved_by,
                    approving_committee=event.approving_committee,
                    committee_place=event.committee_place,
                    approved_on=event.approved_on,
                    member_count=0,
                    formed_at=at,
                )
            )
        elif isinstance(event, MobileBranch.MemberAdmitted | MobileBranch.MemberReleased):
            step = 1 if isinstance(event, MobileBranch.MemberAdmitted) else -1
            conn.execute(
                branches.update()
                .where(branches.c.branch_id == key)
                .values(member_count=branches.c.member_count + step)
            )
            if getattr(event, "over_norm_reason", None):  # admitted beyond the norm (50)
                values = {"state": "active", "over_norm_reason": event.over_norm_reason}
                upsert(conn, branch_states, {"branch_id": key}, values)
        elif isinstance(event, MobileBranch.Merged | MobileBranch.Dissolved):
            merged = isinstance(event, MobileBranch.Merged)
            values = {
                "state": "merged" if merged else "dissolved",
                "merged_into": event.into_branch_id if merged else None,
                "ended_on": event.merged_on if merged else event.dissolved_on,
                "end_reason": event.reason,
            }
            upsert(conn, branch_states, {"branch_id": key}, values)
        elif isinstance(event, Activity.Recorded):
            conn.execute(
                activities.insert().values(
                    activity_id=key,
                    kind=event.kind,
                    title=event.title,
                    held_on=event.held_on,
                    organiser=event.organiser,
                    attendee_count=0,
                    recorded_at=at,
                )
            )
        elif isinstance(event, Activity.AttendanceRecorded):
            conn.execute(
                activities.update()
                .where(activities.c.activity_id == key)
                .values(attendee_count=activities.c.attendee_count + len(event.member_ids))
            )


class Evaluations(ReadModel):
    """The host's yearly evaluations and its assistance requests to the origin."""

    name = "evaluations"
    tables = (evaluations, assistance)
    handles = (HostEvaluation.Event, AssistanceRequest.Event)
    legacy_position = LEGACY

    def handle(self, conn: sa.Connection, event: Any) -> None:
        key, at = str(event.originator_id), event.timestamp
        if isinstance(event, HostEvaluation.Event):
            self._evaluation(conn, key, event)
        elif isinstance(event, AssistanceRequest.Requested):
            conn.execute(
                assistance.insert().values(
                    request_id=key,
                    member_id=event.member_record_id,
                    origin_place=event.origin_place,
                    amount_fen=event.amount_fen,
                    reason=event.reason,
                    requested_on=event.requested_on,
                    status="requested",
                    requested_at=at,
                    updated_at=at,
                )
            )
        elif isinstance(event, AssistanceRequest.StatusChanged):
            conn.execute(
                assistance.update()
                .where(assistance.c.request_id == key)
                .values(status=event.status, amount_fen=event.amount_fen, updated_at=at)
            )

    def _evaluation(self, conn: sa.Connection, key: str, event: Any) -> None:
        if isinstance(event, HostEvaluation.Opened):
            values = {
                "member_id": str(event.member_record_id),
                "year": event.year,
                "origin_place": event.origin_place,
            }
            upsert(
                conn, evaluations, {"evaluation_id": key}, values | {"updated_at": event.timestamp}
            )
            return
        if isinstance(event, HostEvaluation.Evaluated):
            values = {
                "host_grade": event.grade,
                "comments": event.comments,
                "attendance_count": event.attendance_count,
                "attendance_by_kind": dict(event.attendance_by_kind),
                "evaluated_by": event.evaluated_by,
            }
        elif isinstance(event, HostEvaluation.OriginEvaluated):
            values = {"origin_grade": event.grade}
        elif isinstance(event, HostEvaluation.JointlyReviewed):
            values = {"agreed_grade": event.agreed_grade, "reviewed_on": event.reviewed_on}
        elif isinstance(event, HostEvaluation.Concluded):
            values = {"concluded_grade": event.grade}
            if event.origin_grade:
                values["origin_grade"] = event.origin_grade
        else:
            return
        update_row(
            conn, evaluations, {"evaluation_id": key}, values | {"updated_at": event.timestamp}
        )


READ_MODELS: tuple[type[ReadModel], ...] = (Members, Branches, Evaluations)
READ_MODELS += (practice_views.PioneerCards,)  # the pioneer card (docs/practices.md)
