"""Grades are accepted as users say them (优秀/合格/基本合格/不合格) as well as by their codes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.inflow.entrypoints.schemas import EvaluateMember
from services.outflow.entrypoints.transfer_assessment_fund_schemas import Conclude, OriginEvaluation
from shared.validation.grades import Grade, grade_code, grade_label


@pytest.mark.parametrize("grade", list(Grade))
def test_each_label_and_code_is_the_same_grade(grade: Grade) -> None:
    for written in (grade.value, grade.label_zh, f" {grade.label_zh} "):
        assert EvaluateMember.model_validate({"year": 2026, "grade": written}).grade == grade
        assert OriginEvaluation.model_validate({"grade": written}).grade == grade.value
        assert Conclude.model_validate({"grade": written}).grade == grade.value
    assert grade_label(grade.value) == grade.label_zh


def test_anything_else_is_refused_by_the_field() -> None:
    assert grade_code("良好") == "良好" and grade_label(None) is None
    with pytest.raises(ValidationError):
        EvaluateMember.model_validate({"year": 2026, "grade": "良好"})
