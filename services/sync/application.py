"""The exchange's own event-sourced record: joint assessments and two-way membership state.

It lives in the sync service's database. Facts arrive from the reconciler (every message on the
exchange, exactly once, with tracking); it has no commands of its own: the joint review is
recorded at the origin, where the grade is final, and reaches the exchange like every fact.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from services.sync.domain.assessment import (
    DivergencePolicy,
    JointAssessment,
    assessment_id,
    evaluation_deadline,
)
from services.sync.domain.membership import (
    MembershipPair,
    UnannouncedArrival,
    membership_pair_id,
    unannounced_id,
)
from shared.eventsourced import LiangdiApplication


class NotFound(LookupError):
    pass


class SyncApplication(LiangdiApplication):
    name = "sync"
    snapshotting_intervals = {MembershipPair: 50, JointAssessment: 50}

    def __init__(
        self,
        env: dict[str, Any] | None = None,
        *,
        policy: DivergencePolicy | None = None,
        evaluation_deadline: str = "03-31",
        reporting_deadline_days: int = 30,
        receipt_due_days: int = 30,
    ):
        super().__init__(env=env)
        self.policy = policy or DivergencePolicy()
        self.evaluation_deadline = evaluation_deadline
        self.reporting_deadline_days = reporting_deadline_days
        self.receipt_due_days = receipt_due_days

    def deadline_of(self, year: int) -> date:
        return evaluation_deadline(year, self.evaluation_deadline)

    # --- get or open (used by the importer; nothing is saved here) ----------------------

    def assessment(
        self, origin_place: str, member_id: str, year: int, host_place: str, evidence: Any = None
    ) -> JointAssessment:
        try:
            return self.repository.get(assessment_id(origin_place, member_id, year))
        except AggregateNotFoundError:
            return JointAssessment(
                origin_place=origin_place,
                member_id=member_id,
                year=year,
                host_place=host_place,
                evidence=evidence,
            )

    def pair(self, origin_place: str, member_id: str) -> MembershipPair:
        try:
            return self.repository.get(membership_pair_id(origin_place, member_id))
        except AggregateNotFoundError:
            return MembershipPair(origin_place=origin_place, member_id=member_id)

    def unannounced(
        self, origin_place: str, host_place: str, host_record_id: str
    ) -> UnannouncedArrival | None:
        try:
            return self.repository.get(unannounced_id(origin_place, host_place, host_record_id))
        except AggregateNotFoundError:
            return None

    # --- commands and queries -----------------------------------------------------------

    def get_assessment(self, id: UUID) -> JointAssessment:
        return self._get(id, JointAssessment)

    def get_any(self, id: UUID) -> Any:
        return self._get(id, object)

    def _get(self, id: UUID, kind: type) -> Any:
        try:
            found = self.repository.get(id)
        except AggregateNotFoundError:
            raise NotFound(id) from None
        if not isinstance(found, kind):
            raise NotFound(id)
        return found
