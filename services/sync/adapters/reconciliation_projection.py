"""Read models of the reconciliation: one row per joint assessment, one per possible mismatch.

Time-dependent states are not stored: a row keeps the calendar-free stage and the date from which
it becomes overdue or a mismatch, and queries compare those with the `as_of` they are given.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from services.sync.application import SyncApplication
from services.sync.domain.assessment import JointAssessment
from services.sync.domain.membership import MembershipPair, UnannouncedArrival
from shared.projection import Projector, upsert

metadata = sa.MetaData()

assessments = sa.Table(
    "sync_assessments",
    metadata,
    sa.Column("assessment_id", sa.String(36), primary_key=True),
    sa.Column("origin_place", sa.String(6), nullable=False, index=True),
    sa.Column("host_place", sa.String(6), nullable=False, index=True),
    sa.Column("member_id", sa.String(64), nullable=False),
    sa.Column("year", sa.Integer, nullable=False, index=True),
    sa.Column("stage", sa.String(20), nullable=False, index=True),
    sa.Column("deadline", sa.Date, nullable=False),
    sa.Column("origin_grade", sa.String(24)),
    sa.Column("host_grade", sa.String(24)),
    sa.Column("concluded_grade", sa.String(24)),
    sa.Column("divergent", sa.Boolean, nullable=False),
    sa.Column("reviewed", sa.Boolean, nullable=False),
    sa.Column("concluded_without_review", sa.Boolean, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)

mismatches = sa.Table(
    "sync_mismatches",
    metadata,
    sa.Column("subject_id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(40), primary_key=True),
    sa.Column("evidence_key", sa.String(80), primary_key=True),
    sa.Column("origin_place", sa.String(6), nullable=False, index=True),
    sa.Column("host_place", sa.String(6), nullable=False, index=True),
    sa.Column("member_id", sa.String(64)),
    sa.Column("host_record_id", sa.String(64)),
    sa.Column("since", sa.Date, nullable=False),
    sa.Column("due_on", sa.Date, nullable=False, index=True),
    sa.Column("detail", sa.String(200), nullable=False),
)


class ReconciliationProjector(Projector):
    name = "projection:reconciliation"
    metadata = metadata
    app: SyncApplication

    def handle(self, conn: sa.Connection, event: Any) -> None:
        aggregate = self.app.repository.get(event.originator_id, version=event.originator_version)
        if isinstance(aggregate, JointAssessment):
            self._assessment(conn, aggregate)
        elif isinstance(aggregate, MembershipPair):
            found = aggregate.mismatches(
                reporting_deadline_days=self.app.reporting_deadline_days,
                receipt_due_days=self.app.receipt_due_days,
            )
            self._mismatches(conn, aggregate, found, member_id=aggregate.member_id)
        elif isinstance(aggregate, UnannouncedArrival):
            self._mismatches(
                conn,
                aggregate,
                aggregate.mismatches(),
                member_id=aggregate.member_id,
                host_record_id=aggregate.host_record_id,
            )

    def _assessment(self, conn: sa.Connection, a: JointAssessment) -> None:
        upsert(
            conn,
            assessments,
            {"assessment_id": str(a.id)},
            {
                "origin_place": a.origin_place,
                "host_place": a.host_place,
                "member_id": a.member_id,
                "year": a.year,
                "stage": a.stage.value,
                "deadline": self.app.deadline_of(a.year),
                "origin_grade": a.origin_grade,
                "host_grade": a.host_grade,
                "concluded_grade": a.concluded_grade,
                "divergent": a.divergent,
                "reviewed": a.review is not None,
                "concluded_without_review": a.concluded_without_review,
                "version": a.version,
            },
        )

    def _mismatches(
        self,
        conn: sa.Connection,
        aggregate: Any,
        found: list[dict[str, Any]],
        *,
        member_id: str | None,
        host_record_id: str | None = None,
    ) -> None:
        # The aggregate's whole current set replaces what was there: resolved ones disappear.
        conn.execute(mismatches.delete().where(mismatches.c.subject_id == str(aggregate.id)))
        for item in found:
            conn.execute(
                mismatches.insert().values(
                    subject_id=str(aggregate.id),
                    kind=item["kind"],
                    evidence_key=item["evidence_key"],
                    origin_place=aggregate.origin_place,
                    host_place=item["host_place"],
                    member_id=member_id,
                    host_record_id=host_record_id,
                    since=item["since"],
                    due_on=item["due_on"],
                    detail=item["detail"][:200],
                )
            )
