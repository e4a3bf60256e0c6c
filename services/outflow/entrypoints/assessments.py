"""Routes of the annual assessment (民主评议): origin evaluation, conclusion, confirmation."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa
from fastapi import APIRouter, Path, Query

from services.outflow.adapters.tables import assessments
from services.outflow.domain.assessment import Assessment
from services.outflow.entrypoints.deps import ERRORS, App, Reader, Runtime, Writer
from services.outflow.entrypoints.evidence import AssessmentView  # with the hosts' evidence
from services.outflow.entrypoints.transfer_assessment_fund_schemas import (
    Conclude,
    JointReview,
    OriginEvaluation,
)
from shared.http.paging import MAX_OFFSET
from shared.validation.bounds import Text

router = APIRouter(prefix="/api/v1", tags=["assessments"], responses=ERRORS)
Year = Path(ge=2000, le=2100, examples=[2026])


def view(a: Assessment, evidence: dict | None = None) -> AssessmentView:
    return AssessmentView(
        member_id=a.member_id,
        year=a.year,
        state=a.state,
        origin_grade=a.origin_grade,
        host_grade=a.host_grade,
        host_place=a.host_place,
        attendance_count=a.attendance_count,
        joint_review=a.joint_review,
        proposed_grade=a.proposed_grade,
        final_grade=a.final_grade,
        resolution=a.resolution,
        review=a.review,
        evidence=evidence,
    )


@router.post(
    "/members/{member_id}/assessments/{year}/origin-evaluation",
    response_model=AssessmentView,
    summary="Record the origin's evaluation for a year",
)
def evaluate(
    member_id: UUID, body: OriginEvaluation, rt: Runtime, who: Writer, year: int = Year
) -> AssessmentView:
    a = rt.app.evaluate_by_origin(member_id, year, **body.model_dump(), recorded_by=who.subject)
    rt.after_write()
    return view(a)


@router.post(
    "/members/{member_id}/assessments/{year}/joint-review",
    response_model=AssessmentView,
    summary="Record the outcome of the joint review (联合评议) when the two sides disagree",
)
def joint_review(
    member_id: UUID, body: JointReview, rt: Runtime, who: Writer, year: int = Year
) -> AssessmentView:
    a = rt.app.record_joint_review(member_id, year, **body.model_dump(), recorded_by=who.subject)
    rt.after_write()
    return view(a)


@router.post(
    "/members/{member_id}/assessments/{year}/conclusion",
    response_model=AssessmentView,
    summary="Conclude the final grade (excellent / not competent then need confirmation)",
)
def conclude(
    member_id: UUID, body: Conclude, rt: Runtime, who: Writer, year: int = Year
) -> AssessmentView:
    a = rt.app.conclude_assessment(member_id, year, **body.model_dump(), recorded_by=who.subject)
    rt.after_write()
    return view(a)


@router.post(
    "/members/{member_id}/assessments/{year}/confirmation",
    response_model=AssessmentView,
    summary="Confirm a proposed excellent / not competent grade (the extra step)",
)
def confirm(member_id: UUID, rt: Runtime, who: Writer, year: int = Year) -> AssessmentView:
    a = rt.app.confirm_assessment(member_id, year, recorded_by=who.subject)
    rt.after_write()
    return view(a)


@router.get(
    "/members/{member_id}/assessments/{year}",
    response_model=AssessmentView,
    summary="A member's assessment for a year",
)
def get_assessment(member_id: UUID, app: App, _: Reader, year: int = Year) -> AssessmentView:
    return view(app.assessment(member_id, year), app.evidence_summary(member_id, year))


@router.get(
    "/assessments",
    response_model=list[AssessmentView],
    summary="Assessments of a year by state (e.g. those flagged for joint review)",
)
def list_assessments(
    rt: Runtime,
    _: Reader,
    year: int = Query(..., ge=2000, le=2100, examples=[2026]),
    state: Text(30) | None = Query(None, examples=["joint_review"]),
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> list[AssessmentView]:
    where = [assessments.c.year == year]
    if state:
        where.append(assessments.c.state == state)
    with rt.engine.connect() as conn:
        rows = conn.execute(
            sa.select(assessments)
            .where(*where)
            .order_by(assessments.c.member_id)
            .offset(offset)
            .limit(limit)
        ).mappings()
        return [
            AssessmentView.model_validate({**dict(r), "resolution": r["resolution"] or ""})
            for r in rows
        ]
