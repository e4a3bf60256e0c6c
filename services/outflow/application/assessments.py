"""Commands on annual assessments (民主评议): origin evaluation, conclusion, confirmation."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from services.outflow.application.core import NotFoundError, OutflowCore
from services.outflow.domain.assessment import Assessment, assessment_id_for
from services.outflow.domain.errors import not_in_future
from shared.validation.bounds import china_today


class AssessmentCommands(OutflowCore):
    def assessment(self, member_id: UUID, year: int) -> Assessment:
        found = self._find(assessment_id_for(member_id, year))
        if found is None:
            raise NotFoundError(
                "assessment.not_found", f"no {year} assessment for member {member_id}"
            )
        return found

    def _assessment_or_new(self, member_id: UUID, year: int) -> Assessment:
        found = self._find(assessment_id_for(member_id, year))
        return found or Assessment(member_id=member_id, year=year, origin_place=self.place)

    def evaluate_by_origin(
        self, member_id: UUID, year: int, *, grade: str, comments: str, recorded_by: str
    ) -> Assessment:
        member = self.get_member(member_id)
        member._ensure_open()
        assessment = self._assessment_or_new(member_id, year)
        assessment.evaluate_by_origin(
            grade=grade, comments=comments, host_place=member.host_place, recorded_by=recorded_by
        )
        self.save(assessment)
        return assessment

    def record_joint_review(
        self,
        member_id: UUID,
        year: int,
        *,
        agreed_grade: str,
        notes: str,
        reviewed_on: date | None,
        recorded_by: str,
    ) -> Assessment:
        today = china_today()
        reviewed_on = reviewed_on or today
        not_in_future(reviewed_on, today, "assessment.review_in_future", "the joint review")
        assessment = self.assessment(member_id, year)
        assessment.record_joint_review(
            agreed_grade=agreed_grade, notes=notes, reviewed_on=reviewed_on, recorded_by=recorded_by
        )
        self.save(assessment)
        return assessment

    def conclude_assessment(
        self, member_id: UUID, year: int, *, grade: str, resolution: str, recorded_by: str
    ) -> Assessment:
        assessment = self.assessment(member_id, year)
        assessment.conclude(grade=grade, resolution=resolution, recorded_by=recorded_by)
        self.save(assessment)
        return assessment

    def confirm_assessment(self, member_id: UUID, year: int, *, recorded_by: str) -> Assessment:
        assessment = self.assessment(member_id, year)
        assessment.confirm(recorded_by=recorded_by)
        self.save(assessment)
        return assessment

    def final_grades(self, member_id: UUID, years: range) -> dict[int, str]:
        grades = {}
        for year in years:
            found = self._find(assessment_id_for(member_id, year))
            if found is not None and found.final_grade:
                grades[year] = found.final_grade
        return grades
