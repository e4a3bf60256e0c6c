"""Operator endpoints of the reconciliation: joint assessments, membership mismatches, and
anti-entropy runs. Reads for sync admins and auditors, actions for sync admins only. Nothing here
carries personal data: members appear by their origin member id only.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from services.sync.adapters import reconciliation_queries as q
from services.sync.adapters.reconciliation import Reconciliation
from services.sync.application import NotFound as AggregateMissing
from services.sync.domain.assessment import AssessmentState, JointAssessment
from services.sync.domain.membership import Mismatch
from services.sync.entrypoints.params import AsOf, BodyPlace, PlaceFilter
from services.sync.entrypoints.responses import (
    AntiEntropyResult,
    AssessmentPage,
    JointAssessmentView,
    MismatchPage,
    ReconciliationReport,
)
from shared.http.auth import allow
from shared.http.errors import NotFound
from shared.http.paging import MAX_OFFSET
from shared.security.tokens import Principal, Role
from shared.validation.bounds import china_today

router = APIRouter(prefix="/admin", tags=["reconciliation"])
Reader = Annotated[Principal, Depends(allow(Role.SYNC_ADMIN, Role.AUDITOR))]
Admin = Annotated[Principal, Depends(allow(Role.SYNC_ADMIN))]
Grade = Literal["excellent", "competent", "basically_competent", "not_competent"]


def reconciliation(request: Request) -> Reconciliation:
    return request.app.state.runtime.reconciliation


Rec = Annotated[Reconciliation, Depends(reconciliation)]


def caught_up(request: Request) -> Reconciliation:
    rec = reconciliation(request)
    rec.catch_up()
    return rec


# For reads of the read model: a read after the reconciler's count of applied facts sees them.
Fresh = Annotated[Reconciliation, Depends(caught_up)]


class AntiEntropyRun(BaseModel):
    """An on-demand anti-entropy check; `repair` re-sends what a receiver is missing."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"mode": "report"}, {"mode": "repair"}]}
    )
    mode: Literal["report", "repair"] = "report"
    places: list[BodyPlace] | None = Field(None, max_length=500)


def _assessment_view(a: JointAssessment, rec: Reconciliation, who: Principal, as_of: date) -> dict:
    deadline = rec.app.deadline_of(a.year)
    review = dict(a.review) if a.review else None
    if review is not None and who.role != Role.SYNC_ADMIN:
        # Free text typed by an operator may name people: auditors see that it exists only.
        review["notes"] = None
    return {
        "assessment_id": str(a.id),
        "origin_place": a.origin_place,
        "host_place": a.host_place,
        "member_id": a.member_id,
        "year": a.year,
        "state": a.state(as_of=as_of, deadline=deadline).value,
        "stage": a.stage.value,
        "deadline": deadline,
        "origin_grade": a.origin_grade,
        "host_grade": a.host_grade,
        "divergent": a.divergent,
        "joint_review": review,
        "concluded_grade": a.concluded_grade,
        "resolution": a.resolution if who.role == Role.SYNC_ADMIN else None,
        "concluded_without_review": a.concluded_without_review,
        "evidence": a.evidence,
        "version": a.version,
    }


@router.get(
    "/reconciliation",
    summary="Reconciliation report: assessments by state, mismatches",
    response_model=ReconciliationReport,
)
def report(
    rec: Fresh,
    request: Request,
    _: Reader,
    as_of: AsOf = None,
    year: int | None = Query(None, ge=2000, le=2100),
    place: PlaceFilter = None,
) -> dict[str, Any]:
    as_of = as_of or china_today()
    with rec.engine.connect() as conn:
        states = q.assessment_counts(conn, as_of=as_of, year=year, place=place)
        kinds = q.mismatch_counts(conn, as_of=as_of, place=place)
    # Facts a replay skipped on record (allow_gap): the sync record has them, a receiver never
    # will until the gap is covered, so they count as mismatches (docs/sync.md, "Replay").
    gaps = [
        gap
        for gap in request.app.state.runtime.gaps.open_gaps()
        if place is None or place in (gap["from_place"], gap["to_place"])
    ]
    if gaps:
        kinds = kinds | {"replay_gap": sum(gap["skipped"] for gap in gaps)}
    return {
        "as_of": as_of,
        "assessments": {"total": sum(states.values()), "by_state": states},
        "mismatches": {"total": sum(kinds.values()), "by_kind": kinds},
        "gaps": gaps,
        "reconciler": rec.status(),
    }


@router.get(
    "/reconciliation/assessments",
    summary="Joint assessments, filtered and paginated",
    response_model=AssessmentPage,
)
def assessments(
    rec: Fresh,
    _: Reader,
    as_of: AsOf = None,
    state: AssessmentState | None = None,
    year: int | None = Query(None, ge=2000, le=2100),
    place: PlaceFilter = None,
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    limit: int = Query(50, ge=1, le=500),
) -> dict[str, Any]:
    as_of = as_of or china_today()
    with rec.engine.connect() as conn:
        items, total = q.list_assessments(
            conn,
            as_of=as_of,
            state=state.value if state else None,
            year=year,
            place=place,
            offset=offset,
            limit=limit,
        )
    return {"as_of": as_of, "items": items, "total": total, "offset": offset, "limit": limit}


@router.get(
    "/reconciliation/assessments/{assessment_id}",
    summary="One joint assessment with both grades, review and the facts behind them",
    response_model=JointAssessmentView,
)
def assessment(assessment_id: UUID, rec: Rec, who: Reader, as_of: AsOf = None) -> dict[str, Any]:
    try:
        found = rec.app.get_assessment(assessment_id)
    except AggregateMissing:
        raise NotFound("assessment.not_found", f"no assessment {assessment_id}") from None
    return _assessment_view(found, rec, who, as_of or china_today())


@router.get(
    "/reconciliation/mismatches",
    summary="Membership mismatches between origin and hosts, with age and explaining events",
    response_model=MismatchPage,
)
def mismatches(
    rec: Fresh,
    _: Reader,
    as_of: AsOf = None,
    kind: Mismatch | None = None,
    place: PlaceFilter = None,
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    limit: int = Query(50, ge=1, le=500),
) -> dict[str, Any]:
    as_of = as_of or china_today()
    with rec.engine.connect() as conn:
        items, total = q.list_mismatches(
            conn,
            as_of=as_of,
            kind=kind.value if kind else None,
            place=place,
            offset=offset,
            limit=limit,
        )
    for item in items:
        try:
            subject = rec.app.get_any(UUID(item["subject_id"]))
        except AggregateMissing:
            item["evidence"] = []
            continue
        evidence = subject.evidence
        item["evidence"] = (
            evidence.get(item["evidence_key"], []) if isinstance(evidence, dict) else evidence
        )
    return {"as_of": as_of, "items": items, "total": total, "offset": offset, "limit": limit}


@router.post(
    "/antientropy/runs",
    summary="Run an anti-entropy check now (report or repair)",
    response_model=AntiEntropyResult,
)
async def run_antientropy(body: AntiEntropyRun, request: Request, _: Admin) -> dict[str, Any]:
    runtime = request.app.state.runtime
    known = runtime.places.known()
    unknown = sorted(set(body.places or ()) - set(known))
    if unknown:
        raise NotFound(
            "place.unknown",
            f"not in the exchange's topology: {', '.join(unknown[:20])}; nothing was run",
        )
    checker = runtime.antientropy
    return await checker.run(repair=body.mode == "repair", places=body.places)


@router.get(
    "/antientropy/runs/latest",
    summary="The result of the latest anti-entropy run",
    response_model=AntiEntropyResult,
)
def latest_antientropy(request: Request, _: Reader) -> dict[str, Any]:
    latest = request.app.state.runtime.antientropy.latest
    if latest is None:
        raise NotFound("antientropy.no_run", "no anti-entropy run yet")
    return latest
