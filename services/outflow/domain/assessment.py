"""A member's annual assessment (民主评议) for one year: both sides' evaluations and the
origin's final grade.

The host's evaluation arrives through sync; the origin evaluates too. When the two disagree
(two or more grades apart, or exactly one says not competent) the assessment is flagged for joint
review (联合评议): the origin records its outcome (the grade both sides agreed and the notes),
which reaches the host and the exchange, and concluding needs that review or a recorded
resolution: neither evaluation is overwritten. Excellent and not competent need a second,
confirming step. The origin's concluded grade is final.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.outflow.domain.errors import RuleViolation, WrongState
from shared.validation.grades import Grade, steps_apart

NEEDS_CONFIRMATION = (Grade.EXCELLENT, Grade.NOT_COMPETENT)
DIVERGENCE_STEPS = 2


def assessment_id_for(member_id: UUID, year: int) -> UUID:
    return uuid5(NAMESPACE_URL, f"liangdi:assessment:{member_id}:{year}")


def valid_grade(grade: str) -> str:
    if grade not in set(Grade):
        raise RuleViolation(
            f"{grade!r} is not a grade; one of " + ", ".join(Grade), "assessment.grade_unknown"
        )
    return grade


def diverge(a: str, b: str) -> bool:
    one_not_competent = (a == Grade.NOT_COMPETENT) != (b == Grade.NOT_COMPETENT)
    return one_not_competent or steps_apart(a, b) >= DIVERGENCE_STEPS


class Assessment(Aggregate):
    # The joint review's outcome; a class default so records from before it existed load as well.
    review: dict[str, Any] | None = None

    @staticmethod
    def create_id(member_id: UUID, year: int, **_: object) -> UUID:
        return assessment_id_for(member_id, year)

    @event("Opened")
    def __init__(self, *, member_id: UUID, year: int, origin_place: str) -> None:
        self.member_id, self.year, self.origin_place = member_id, year, origin_place
        self.origin_grade: str | None = None
        self.host_grade: str | None = None
        self.host_place: str | None = None
        self.attendance_count: int | None = None
        self.joint_review = False
        self.proposed_grade: str | None = None
        self.final_grade: str | None = None
        self.resolution = ""

    @property
    def state(self) -> str:
        if self.final_grade:
            return "concluded"
        if self.proposed_grade:
            return "awaiting_confirmation"
        if self.review:
            return "jointly_reviewed"
        if self.joint_review:
            return "joint_review"
        if self.origin_grade and self.host_grade:
            return "ready"
        if self.origin_grade:
            return "origin_evaluated"
        if self.host_grade:
            return "host_evaluated"
        return "open"

    def _ensure_not_concluded(self) -> None:
        if self.final_grade:
            raise WrongState(
                f"the {self.year} assessment is concluded ({self.final_grade}); it is final",
                "assessment.concluded",
            )

    def evaluate_by_origin(
        self, *, grade: str, comments: str, host_place: str | None, recorded_by: str
    ) -> None:
        self._ensure_not_concluded()
        self._origin_evaluated(
            grade=valid_grade(grade),
            comments=comments,
            host_place=host_place,
            recorded_by=recorded_by,
        )
        self._flag_if_divergent(recorded_by)

    @event("OriginEvaluated")
    def _origin_evaluated(
        self, *, grade: str, comments: str, host_place: str | None, recorded_by: str
    ) -> None:
        self.origin_grade = grade
        self.proposed_grade = None  # a changed evaluation withdraws a pending proposal
        self.host_place = host_place or self.host_place

    def record_host_evaluation(
        self, *, grade: str, attendance_count: int, comments: str, host_place: str
    ) -> None:
        self._ensure_not_concluded()
        self._host_evaluated(
            grade=valid_grade(grade),
            attendance_count=attendance_count,
            comments=comments,
            host_place=host_place,
            recorded_by=f"host:{host_place}",
        )
        self._flag_if_divergent(f"host:{host_place}")

    @event("HostEvaluated")
    def _host_evaluated(
        self,
        *,
        grade: str,
        attendance_count: int,
        comments: str,
        host_place: str,
        recorded_by: str,
    ) -> None:
        self.host_grade, self.attendance_count, self.host_place = (
            grade,
            attendance_count,
            host_place,
        )
        self.proposed_grade = None

    def _flag_if_divergent(self, recorded_by: str) -> None:
        if (
            not self.joint_review
            and self.origin_grade
            and self.host_grade
            and diverge(self.origin_grade, self.host_grade)
        ):
            self._flagged(
                origin_grade=self.origin_grade,
                host_grade=self.host_grade,
                recorded_by=recorded_by,
            )

    @event("JointReviewFlagged")
    def _flagged(self, *, origin_grade: str, host_grade: str, recorded_by: str) -> None:
        self.joint_review = True

    def record_joint_review(
        self, *, agreed_grade: str, notes: str, reviewed_on: date, recorded_by: str
    ) -> None:
        """The outcome of the joint review (联合评议) of an assessment whose sides disagree."""
        self._ensure_not_concluded()
        if not self.joint_review:
            raise WrongState(
                "only an assessment whose sides disagree goes to joint review "
                f"(origin {self.origin_grade}, host {self.host_grade})",
                "assessment.not_divergent",
            )
        if reviewed_on.year < self.year:
            raise RuleViolation(
                f"a review of the {self.year} assessment cannot be dated {reviewed_on}",
                "assessment.review_before_year",
            )
        self._jointly_reviewed(
            agreed_grade=valid_grade(agreed_grade),
            notes=notes,
            reviewed_on=reviewed_on,
            origin_grade=self.origin_grade,
            host_grade=self.host_grade,
            host_place=self.host_place,
            recorded_by=recorded_by,
        )

    @event("JointlyReviewed")
    def _jointly_reviewed(
        self,
        *,
        agreed_grade: str,
        notes: str,
        reviewed_on: date,
        origin_grade: str | None,
        host_grade: str | None,
        host_place: str | None,
        recorded_by: str,
    ) -> None:
        self.review = {"agreed_grade": agreed_grade, "notes": notes, "reviewed_on": reviewed_on}
        self.proposed_grade = None  # a proposal made before the review is withdrawn by it

    def conclude(self, *, grade: str, resolution: str, recorded_by: str) -> bool:
        """Concludes, or proposes when the grade needs confirmation. True when concluded."""
        self._ensure_not_concluded()
        valid_grade(grade)
        if not self.host_grade:
            raise WrongState(
                "the host's evaluation has not arrived; conclude once it is in",
                "assessment.host_opinion_missing",
            )
        if not self.origin_grade:
            raise WrongState(
                "record the origin's evaluation first", "assessment.origin_evaluation_missing"
            )
        resolution = self._resolution(grade, resolution)
        if grade in NEEDS_CONFIRMATION:
            self._proposed(grade=grade, resolution=resolution, recorded_by=recorded_by)
            return False
        self._concluded(
            grade=grade,
            resolution=resolution,
            origin_grade=self.origin_grade,
            host_grade=self.host_grade,
            host_place=self.host_place,
            recorded_by=recorded_by,
        )
        return True

    def _resolution(self, grade: str, resolution: str) -> str:
        """Why the final grade stands when the sides disagreed: the joint review, or a resolution
        recorded with the conclusion (a review held on paper, or a grade other than the one the
        review agreed)."""
        if not self.joint_review or resolution.strip():
            return resolution
        if self.review is None:
            raise WrongState(
                f"the sides disagree (origin {self.origin_grade}, host {self.host_grade}): "
                "record the joint review, or conclude with its resolution",
                "assessment.joint_review_pending",
            )
        if grade != self.review["agreed_grade"]:
            raise WrongState(
                f"the joint review agreed {self.review['agreed_grade']}: concluding {grade} "
                "needs a resolution saying why",
                "assessment.differs_from_review",
            )
        return f"joint review {self.review['reviewed_on']}: {self.review['notes']}".strip()

    @event("ConclusionProposed")
    def _proposed(self, *, grade: str, resolution: str, recorded_by: str) -> None:
        self.proposed_grade, self.resolution = grade, resolution

    def confirm(self, *, recorded_by: str) -> None:
        """The extra confirmation step for excellent and not competent."""
        self._ensure_not_concluded()
        if not self.proposed_grade:
            raise WrongState(
                "no proposed grade awaits confirmation", "assessment.nothing_to_confirm"
            )
        self._concluded(
            grade=self.proposed_grade,
            resolution=self.resolution,
            origin_grade=self.origin_grade,
            host_grade=self.host_grade,
            host_place=self.host_place,
            recorded_by=recorded_by,
        )

    @event("Concluded")
    def _concluded(
        self,
        *,
        grade: str,
        resolution: str,
        origin_grade: str | None,
        host_grade: str | None,
        host_place: str | None,
        recorded_by: str,
    ) -> None:
        self.final_grade, self.resolution, self.proposed_grade = grade, resolution, None
