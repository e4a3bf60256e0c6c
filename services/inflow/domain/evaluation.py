"""The host's annual evaluation of a member (双向互评: the host's half), and what the origin
concluded (民主评议). The origin's concluded grade is final; it is shown, never overwritten here.
"""

from __future__ import annotations

from datetime import date
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.inflow.domain.errors import WrongState


def evaluation_id(member_record_id: UUID | str, year: int) -> UUID:
    return uuid5(NAMESPACE_URL, f"liangdi:host-evaluation:{member_record_id}:{year}")


class HostEvaluation(Aggregate):
    agreed_grade: str | None = None  # a class default: records from before joint reviews load

    @staticmethod
    def create_id(member_record_id: UUID | str, year: int, **_: object) -> UUID:
        return evaluation_id(member_record_id, year)

    @event("Opened")
    def __init__(
        self,
        *,
        member_record_id: UUID | str,
        year: int,
        host_place: str,
        origin_place: str,
        origin_member_id: str,
    ) -> None:
        self.member_record_id, self.year = str(member_record_id), year
        self.host_place, self.origin_place = host_place, origin_place
        self.origin_member_id = origin_member_id
        self.host_grade: str | None = None
        self.origin_grade: str | None = None
        self.concluded_grade: str | None = None

    def evaluate(
        self,
        *,
        grade: str,
        comments: str,
        attendance_count: int,
        attendance_by_kind: dict[str, int],
        evaluated_by: str,
    ) -> None:
        if self.concluded_grade is not None:
            raise WrongState(
                f"the {self.year} assessment is concluded ({self.concluded_grade})",
                "evaluation.concluded",
            )
        self._evaluated(
            grade=grade,
            comments=comments,
            attendance_count=attendance_count,
            attendance_by_kind=attendance_by_kind,
            evaluated_by=evaluated_by,
        )

    @event("Evaluated")
    def _evaluated(
        self,
        *,
        grade: str,
        comments: str,
        attendance_count: int,
        attendance_by_kind: dict[str, int],
        evaluated_by: str,
    ) -> None:
        self.host_grade = grade

    @event("OriginEvaluated")
    def record_origin_evaluation(self, *, grade: str, comments: str) -> None:
        self.origin_grade = grade

    @event("JointlyReviewed")
    def record_joint_review(self, *, agreed_grade: str, reviewed_on: date) -> None:
        """The origin recorded the joint review (联合评议) both sides held."""
        self.agreed_grade = agreed_grade

    @event("Concluded")
    def conclude(self, *, grade: str, origin_grade: str | None, host_grade: str | None) -> None:
        self.concluded_grade = grade
        self.origin_grade = origin_grade or self.origin_grade
