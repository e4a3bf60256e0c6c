"""Two-way evaluation (双向互评) of one member for one year, as the exchange sees it.

The host evaluates the member's conduct where they are, the origin evaluates them too; the annual
assessment (民主评议) is final only when the origin concludes it. When the two sides' grades are
too far apart the assessment is divergent and needs a joint review (联合评议) before the origin
concludes. The origin's concluded grade is final: the exchange only reflects it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.sync.domain.errors import RuleViolation
from services.sync.domain.evidence import appended
from shared.validation import Grade, steps_apart


class AssessmentState(StrEnum):
    AWAITING_BOTH = "awaiting_both"
    AWAITING_ORIGIN = "awaiting_origin"
    AWAITING_HOST = "awaiting_host"
    AGREED = "agreed"
    DIVERGENT = "divergent"  # joint review required
    CONCLUDED = "concluded"
    OVERDUE = "overdue"  # not concluded by the evaluation deadline


@dataclass(frozen=True)
class DivergencePolicy:
    """When two grades disagree enough to need a joint review (configurable)."""

    steps: int = 2
    not_competent_diverges: bool = True

    def diverges(self, origin: str | None, host: str | None) -> bool:
        if origin is None or host is None:
            return False
        if steps_apart(origin, host) >= self.steps:
            return True
        failing = Grade.NOT_COMPETENT.value
        return self.not_competent_diverges and (origin == failing) != (host == failing)


def assessment_id(origin_place: str, member_id: str, year: int) -> UUID:
    return uuid5(NAMESPACE_URL, f"liangdi:assessment:{origin_place}:{member_id}:{year}")


def evaluation_deadline(year: int, month_day: str) -> date:
    """The deadline ("MM-DD") in the year after the one assessed."""
    month, day = (int(part) for part in month_day.split("-"))
    return date(year + 1, month, day)


def _grade(value: str) -> str:
    try:
        return Grade(value).value
    except ValueError:
        raise RuleViolation(f"{value!r} is not a grade", "assessment.invalid_grade") from None


class JointAssessment(Aggregate):
    resolution = ""  # a class default: records (and snapshots) from before it load as well

    @staticmethod
    def create_id(origin_place: str, member_id: str, year: int, **_: object) -> UUID:
        return assessment_id(origin_place, member_id, year)

    @event("Opened")
    def __init__(
        self, *, origin_place: str, member_id: str, year: int, host_place: str, evidence: Any
    ) -> None:
        self.origin_place, self.member_id, self.year = origin_place, member_id, year
        self.host_place = host_place
        self.origin_grade: str | None = None
        self.host_grade: str | None = None
        self.divergent = False
        self.review: dict[str, Any] | None = None
        self.concluded_grade: str | None = None
        self.concluded_without_review = False
        self.evidence: list[dict[str, Any]] = appended([], evidence)

    def record_origin_grade(self, *, grade: str, policy: DivergencePolicy, evidence: Any) -> None:
        grade = _grade(grade)
        self._origin_graded(
            grade=grade, divergent=policy.diverges(grade, self.host_grade), evidence=evidence
        )

    @event("OriginGraded")
    def _origin_graded(self, *, grade: str, divergent: bool, evidence: Any) -> None:
        self.origin_grade, self.divergent = grade, divergent
        self.evidence = appended(self.evidence, evidence)

    def record_host_grade(
        self, *, host_place: str, grade: str, policy: DivergencePolicy, evidence: Any
    ) -> None:
        grade = _grade(grade)
        self._host_graded(
            host_place=host_place,
            grade=grade,
            divergent=policy.diverges(self.origin_grade, grade),
            evidence=evidence,
        )

    @event("HostGraded")
    def _host_graded(self, *, host_place: str, grade: str, divergent: bool, evidence: Any) -> None:
        self.host_place, self.host_grade, self.divergent = host_place, grade, divergent
        self.evidence = appended(self.evidence, evidence)

    def record_joint_review(
        self, *, agreed_grade: str, notes: str, reviewer: str, reviewed_on: date, evidence: Any
    ) -> None:
        """The origin recorded the joint review (联合评议) both sides held: the exchange reflects
        it, as it reflects every fact (the review is held and recorded where the grade is final)."""
        self._reviewed(
            agreed_grade=_grade(agreed_grade),
            notes=notes,
            reviewer=reviewer,
            reviewed_on=reviewed_on,
            evidence=evidence,
        )

    @event("JointlyReviewed")
    def _reviewed(
        self,
        *,
        agreed_grade: str,
        notes: str,
        reviewer: str,
        reviewed_on: date,
        evidence: Any = None,  # absent from reviews recorded before they came from the origin
    ) -> None:
        self.evidence = appended(self.evidence, evidence)
        self.review = {
            "agreed_grade": agreed_grade,
            "notes": notes,
            "reviewer": reviewer,
            "reviewed_on": reviewed_on,
        }

    def conclude(
        self,
        *,
        grade: str,
        origin_grade: str | None,
        host_grade: str | None,
        evidence: Any,
        resolution: str = "",
    ) -> None:
        """The origin concluded: its grade is final (a later conclusion corrects it)."""
        self._concluded(
            grade=_grade(grade),
            origin_grade=_grade(origin_grade) if origin_grade else self.origin_grade,
            host_grade=_grade(host_grade) if host_grade else self.host_grade,
            evidence=evidence,
            resolution=resolution,
        )

    @event("Concluded")
    def _concluded(
        self,
        *,
        grade: str,
        origin_grade: str | None,
        host_grade: str | None,
        evidence: Any,
        resolution: str = "",  # absent from conclusions of the first wire version
    ) -> None:
        self.concluded_grade, self.resolution = grade, resolution
        self.origin_grade, self.host_grade = origin_grade, host_grade
        # A resolution recorded with the conclusion is the review's record (one held on paper).
        self.concluded_without_review = (
            self.divergent and self.review is None and not resolution.strip()
        )
        self.evidence = appended(self.evidence, evidence)

    @property
    def stage(self) -> AssessmentState:
        """The state without the calendar: which views are in and whether they agree."""
        if self.concluded_grade is not None:
            return AssessmentState.CONCLUDED
        if self.origin_grade is None and self.host_grade is None:
            return AssessmentState.AWAITING_BOTH
        if self.origin_grade is None:
            return AssessmentState.AWAITING_ORIGIN
        if self.host_grade is None:
            return AssessmentState.AWAITING_HOST
        return AssessmentState.DIVERGENT if self.divergent else AssessmentState.AGREED

    def state(self, *, as_of: date, deadline: date) -> AssessmentState:
        stage = self.stage
        if stage != AssessmentState.CONCLUDED and as_of > deadline:
            return AssessmentState.OVERDUE
        return stage
