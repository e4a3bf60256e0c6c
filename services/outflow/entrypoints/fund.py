"""Routes of the hardship assistance fund (困难流动党员救助基金).

Every write needs an ``Idempotency-Key`` header: the effect and the record it produced are noted
together, so a retried request gets the same answer again (header ``Idempotent-Replayed: true``)
and never pays twice. Money is reserved on approval, so concurrent approvals cannot overdraw the
fund.
"""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.outflow.adapters.tables import applications, fund, ledger
from services.outflow.application import Outcome
from services.outflow.domain.fund import AssistanceFund
from services.outflow.domain.payouts import PayoutApplication
from services.outflow.entrypoints.deps import (
    ERRORS,
    IdempotencyKey,
    Reader,
    Runtime,
    Writer,
    idempotent,
)
from services.outflow.entrypoints.transfer_assessment_fund_schemas import (
    ApplicationPage,
    ApplicationView,
    Approve,
    Contribution,
    Disburse,
    FundView,
    LedgerEntry,
    PublishNotice,
    Reject,
    StartReview,
    SubmitApplication,
)
from shared.http.errors import NotFound
from shared.http.paging import MAX_OFFSET
from shared.validation.bounds import Text

router = APIRouter(prefix="/api/v1/fund", tags=["assistance fund"], responses=ERRORS)
APP = {"model": ApplicationView}


def _fund_view(held: AssistanceFund) -> FundView:
    return FundView(
        county=held.county,
        balance_fen=held.balance_fen,
        reserved_fen=held.reserved_fen,
        available_fen=held.available_fen,
        contributed_fen=held.contributed_fen,
        paid_fen=held.paid_fen,
    )


def _application_view(app: PayoutApplication) -> ApplicationView:
    return ApplicationView(
        application_id=app.id,
        member_id=app.member_id,
        source=app.source,
        host_place=app.host_place,
        amount_fen=app.amount_fen,
        reason=app.reason,
        status=app.status,
        requested_on=app.requested_on,
        notice_from=app.notice_from,
        notice_until=app.notice_until,
        paid_on=app.paid_on,
        rejection_reason=app.rejection_reason,
    )


def _answer(outcome: Outcome, request: Request) -> JSONResponse:
    """The write's result as the route documents it (status included); a retry is answered the
    same way from the record the first attempt produced, marked as replayed."""
    result = outcome.result
    if isinstance(result, AssistanceFund):
        view: BaseModel = _fund_view(result)
    else:
        view = _application_view(result)
    status = getattr(request.scope.get("route"), "status_code", None) or 200
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
    return JSONResponse(view.model_dump(mode="json"), status_code=status, headers=headers)


@router.get("", response_model=FundView, summary="The fund's balance, reservations, totals")
def get_fund(rt: Runtime, _: Reader) -> FundView:
    with rt.engine.connect() as conn:
        row = conn.execute(sa.select(fund).where(fund.c.county == rt.place)).mappings().first()
    if row is None:
        return FundView(
            county=rt.place or "",
            balance_fen=0,
            reserved_fen=0,
            available_fen=0,
            contributed_fen=0,
            paid_fen=0,
        )
    return FundView(
        **{
            k: row[k]
            for k in ("county", "balance_fen", "reserved_fen", "contributed_fen", "paid_fen")
        },
        available_fen=row["balance_fen"] - row["reserved_fen"],
    )


@router.get("/ledger", response_model=list[LedgerEntry], summary="The fund's ledger, in order")
def get_ledger(
    rt: Runtime,
    _: Reader,
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    limit: int = Query(100, ge=1, le=1000),
) -> list[LedgerEntry]:
    with rt.engine.connect() as conn:
        rows = conn.execute(
            sa.select(ledger).order_by(ledger.c.entry_no).offset(offset).limit(limit)
        ).mappings()
        return [LedgerEntry.model_validate(dict(r)) for r in rows]


@router.post(
    "/contributions",
    status_code=201,
    response_model=FundView,
    summary="Record a contribution into the fund (integer fen)",
)
def contribute(
    body: Contribution, request: Request, key: IdempotencyKey, rt: Runtime, who: Writer
) -> JSONResponse:
    outcome = rt.app.contribute(
        idempotent(key, request, body), **body.model_dump(), recorded_by=who.subject
    )
    rt.after_write()
    return _answer(outcome, request)


@router.post(
    "/applications",
    status_code=201,
    response_model=ApplicationView,
    summary="Apply for assistance for a member (eligibility is checked)",
)
def submit(
    body: SubmitApplication, request: Request, key: IdempotencyKey, rt: Runtime, who: Writer
) -> JSONResponse:
    outcome = rt.app.submit_application(
        idempotent(key, request, body), **body.model_dump(), recorded_by=who.subject
    )
    rt.after_write()
    return _answer(outcome, request)


@router.get("/applications", response_model=ApplicationPage, summary="List applications")
def list_applications(
    rt: Runtime,
    _: Reader,
    status: Text(20) | None = Query(None, examples=["in_public_notice"]),
    member_id: UUID | None = Query(None),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    limit: int = Query(50, ge=1, le=500),
) -> ApplicationPage:
    where = []
    if status:
        where.append(applications.c.status == status)
    if member_id:
        where.append(applications.c.member_id == str(member_id))
    with rt.engine.connect() as conn:
        total = conn.execute(
            sa.select(sa.func.count()).select_from(applications).where(*where)
        ).scalar()
        rows = conn.execute(
            sa.select(applications)
            .where(*where)
            .order_by(applications.c.created_at, applications.c.application_id)
            .offset(offset)
            .limit(limit)
        ).mappings()
        items = [ApplicationView.model_validate(dict(r)) for r in rows]
    return ApplicationPage(items=items, total=total or 0, offset=offset, limit=limit)


@router.get(
    "/applications/{application_id}", response_model=ApplicationView, summary="One application"
)
def get_application(application_id: UUID, rt: Runtime, _: Reader) -> ApplicationView:
    with rt.engine.connect() as conn:
        row = (
            conn.execute(
                sa.select(applications).where(applications.c.application_id == str(application_id))
            )
            .mappings()
            .first()
        )
    if row is None:
        raise NotFound("assistance.not_found", f"no application {application_id}")
    return ApplicationView.model_validate(dict(row))


@router.post(
    "/applications/{application_id}/review",
    response_model=ApplicationView,
    summary="Start reviewing an application",
)
def start_review(
    application_id: UUID,
    body: StartReview,
    request: Request,
    key: IdempotencyKey,
    rt: Runtime,
    who: Writer,
) -> JSONResponse:
    outcome = rt.app.start_review(
        idempotent(key, request, body), application_id, recorded_by=who.subject
    )
    rt.after_write()
    return _answer(outcome, request)


@router.post(
    "/applications/{application_id}/approval",
    response_model=ApplicationView,
    summary="Approve: re-checks eligibility and reserves the amount (never beyond the balance)",
)
def approve(
    application_id: UUID,
    body: Approve,
    request: Request,
    key: IdempotencyKey,
    rt: Runtime,
    who: Writer,
) -> JSONResponse:
    outcome = rt.app.approve(
        idempotent(key, request, body),
        application_id,
        approved_on=body.approved_on,
        recorded_by=who.subject,
    )
    rt.after_write()
    return _answer(outcome, request)


@router.post(
    "/applications/{application_id}/notice",
    response_model=ApplicationView,
    summary="Publish the public notice (公示) for the configured working days",
)
def publish_notice(
    application_id: UUID,
    body: PublishNotice,
    request: Request,
    key: IdempotencyKey,
    rt: Runtime,
    who: Writer,
) -> JSONResponse:
    outcome = rt.app.publish_notice(
        idempotent(key, request, body),
        application_id,
        notice_from=body.notice_from,
        recorded_by=who.subject,
    )
    rt.after_write()
    return _answer(outcome, request)


@router.post(
    "/applications/{application_id}/disbursement",
    response_model=ApplicationView,
    summary="Pay out after the notice period, from the reservation",
)
def disburse(
    application_id: UUID,
    body: Disburse,
    request: Request,
    key: IdempotencyKey,
    rt: Runtime,
    who: Writer,
) -> JSONResponse:
    outcome = rt.app.disburse(
        idempotent(key, request, body),
        application_id,
        paid_on=body.paid_on,
        recorded_by=who.subject,
    )
    rt.after_write()
    return _answer(outcome, request)


@router.post(
    "/applications/{application_id}/rejection",
    response_model=ApplicationView,
    summary="Reject an application before payment (releases any reservation)",
)
def reject(
    application_id: UUID,
    body: Reject,
    request: Request,
    key: IdempotencyKey,
    rt: Runtime,
    who: Writer,
) -> JSONResponse:
    outcome = rt.app.reject(
        idempotent(key, request, body),
        application_id,
        reason=body.reason,
        recorded_by=who.subject,
    )
    rt.after_write()
    return _answer(outcome, request)
