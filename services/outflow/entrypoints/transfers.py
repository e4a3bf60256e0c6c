"""Routes of transfer of membership out (组织关系转出) by introduction letter (介绍信)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from fastapi import APIRouter, Query

from services.outflow.adapters.tables import members
from services.outflow.domain.transfer import ISSUED, letter_state
from services.outflow.entrypoints.deps import ERRORS, App, Reader, Runtime, Writer
from services.outflow.entrypoints.transfer_assessment_fund_schemas import (
    IssueLetter,
    LetterResponse,
    RecordReceipt,
    ReissueLetter,
    VoidLetter,
)
from shared.contracts.events import LetterNo
from shared.http.paging import MAX_OFFSET
from shared.validation.bounds import QueryDay, Text, china_today

router = APIRouter(prefix="/api/v1", tags=["transfers"], responses=ERRORS)


def letter_view(
    member_id: UUID, letter: dict[str, Any], as_of: date, due_days: int
) -> LetterResponse:
    due = letter["issued_on"] + timedelta(days=due_days)
    return LetterResponse(
        member_id=member_id,
        letter_no=letter["letter_no"],
        state=letter_state(letter, as_of),
        issued_on=letter["issued_on"],
        valid_until=letter["valid_until"],
        receipt_due=due,
        receipt_overdue=letter["state"] == ISSUED and as_of > due,
        received_on=letter.get("received_on"),
    )


def _one(app: Any, member_id: UUID, letter_no: str) -> LetterResponse:
    member = app.get_member(member_id)
    return letter_view(
        member_id, member.letter(letter_no), china_today(), app.rules.receipt_due_days
    )


@router.post(
    "/members/{member_id}/transfer-letters",
    status_code=201,
    response_model=LetterResponse,
    summary="Issue an introduction letter to a host organisation (validity: default 3 months)",
)
def issue_letter(member_id: UUID, body: IssueLetter, rt: Runtime, who: Writer) -> LetterResponse:
    letter_no = rt.app.issue_letter(member_id, **body.model_dump(), recorded_by=who.subject)
    rt.after_write()
    return _one(rt.app, member_id, letter_no)


@router.get(
    "/members/{member_id}/transfer-letters",
    response_model=list[LetterResponse],
    summary="A member's introduction letters and their states on a day",
)
def member_letters(
    member_id: UUID, app: App, _: Reader, as_of: QueryDay | None = Query(None)
) -> list[LetterResponse]:
    member = app.get_member(member_id)
    day = as_of or china_today()
    return [letter_view(member_id, x, day, app.rules.receipt_due_days) for x in member.letters]


@router.post(
    "/members/{member_id}/transfer-letters/{letter_no}/void",
    response_model=LetterResponse,
    summary="Void an open introduction letter",
)
def void_letter(
    member_id: UUID, letter_no: LetterNo, body: VoidLetter, rt: Runtime, who: Writer
) -> LetterResponse:
    rt.app.void_letter(member_id, letter_no, reason=body.reason, recorded_by=who.subject)
    rt.after_write()
    return _one(rt.app, member_id, letter_no)


@router.post(
    "/members/{member_id}/transfer-letters/{letter_no}/reissue",
    status_code=201,
    response_model=LetterResponse,
    summary="Replace an open (e.g. expired) letter by a new one to the same organisation",
)
def reissue_letter(
    member_id: UUID, letter_no: LetterNo, body: ReissueLetter, rt: Runtime, who: Writer
) -> LetterResponse:
    new_no = rt.app.reissue_letter(
        member_id, letter_no, **body.model_dump(), recorded_by=who.subject
    )
    rt.after_write()
    return _one(rt.app, member_id, new_no)


@router.post(
    "/members/{member_id}/transfer-letters/{letter_no}/receipt",
    response_model=LetterResponse,
    summary="Record the receipt (回执) on paper from the letter's organisation: the record "
    "closes here and the host takes it over",
)
def record_receipt(
    member_id: UUID, letter_no: LetterNo, body: RecordReceipt, rt: Runtime, who: Writer
) -> LetterResponse:
    rt.app.record_receipt(member_id, letter_no, **body.model_dump(), recorded_by=who.subject)
    rt.after_write()
    return _one(rt.app, member_id, letter_no)


@router.get(
    "/transfer-letters",
    response_model=list[LetterResponse],
    summary="Current letters by state; flags expired letters and overdue receipts",
)
def list_letters(
    rt: Runtime,
    _: Reader,
    state: Text(20) | None = Query(
        None, examples=["expired"], description="issued, expired, received, void, reissued"
    ),
    receipt_overdue: bool | None = Query(None),
    as_of: QueryDay | None = Query(None),
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> list[LetterResponse]:
    day = as_of or china_today()
    due_days = rt.app.rules.receipt_due_days
    with rt.engine.connect() as conn:
        rows = conn.execute(
            sa.select(members)
            .where(members.c.letter_no.is_not(None))
            .order_by(members.c.letter_issued_on, members.c.member_id)
        ).mappings()
        views = [
            letter_view(
                UUID(r["member_id"]),
                {
                    "letter_no": r["letter_no"],
                    "state": r["letter_state"],
                    "issued_on": r["letter_issued_on"],
                    "valid_until": r["letter_valid_until"],
                    "received_on": r["letter_received_on"],
                },
                day,
                due_days,
            )
            for r in rows
        ]
    if state:
        views = [v for v in views if v.state == state]
    if receipt_overdue is not None:
        views = [v for v in views if v.receipt_overdue == receipt_overdue]
    return views[offset : offset + limit]
