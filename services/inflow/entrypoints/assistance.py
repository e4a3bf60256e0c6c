"""Hardship assistance requests raised by the host; their status comes back from the origin."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Header, Query

from services.inflow.adapters import queries
from services.inflow.entrypoints.deps import (
    Limit,
    Offset,
    Reader,
    Runtime,
    Writer,
    act,
    app_of,
    read,
)
from services.inflow.entrypoints.responses import AssistanceView, Created, Page
from services.inflow.entrypoints.schemas import RequestAssistance
from shared.http.errors import NotFound

router = APIRouter(prefix="/api/v1", tags=["assistance"])

Status = Literal["requested", "under_review", "approved", "in_public_notice", "paid", "rejected"]


@router.post(
    "/members/{member_id}/assistance-requests",
    status_code=201,
    response_model=Created,
    summary="Raise a hardship assistance application to the member's origin county",
)
def request_assistance(
    member_id: UUID,
    body: RequestAssistance,
    rt: Runtime,
    who: Writer,
    idempotency_key: str = Header(
        "",
        alias="Idempotency-Key",
        min_length=0,
        max_length=200,
        pattern=r"^([!-~]{8,200})?$",
        description="Optional client-chosen key (8-200 printable ASCII characters): a retry "
        "with the same key returns the same request instead of raising a second one",
        examples=["2026-03-10-req-0001"],
    ),
) -> Created:
    request_id = act(
        rt,
        app_of(rt).request_assistance,
        member_id,
        **body.model_dump(),
        requested_by=who.subject,
        idempotency_key=idempotency_key,
    )
    return Created(id=request_id)


@router.get(
    "/assistance-requests",
    response_model=Page[AssistanceView],
    summary="Assistance requests and their status at the origin",
)
def list_requests(
    rt: Runtime,
    _: Reader,
    status: Status | None = Query(None),
    member_id: UUID | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[AssistanceView]:
    rows, total = read(
        rt,
        queries.list_assistance,
        status=status,
        member_id=str(member_id) if member_id else None,
        offset=offset,
        limit=limit,
    )
    items = [AssistanceView.model_validate(r) for r in rows]
    return Page[AssistanceView](items=items, total=total, offset=offset, limit=limit)


@router.get(
    "/assistance-requests/{request_id}",
    response_model=AssistanceView,
    summary="One assistance request",
)
def get_request(request_id: UUID, rt: Runtime, _: Reader) -> AssistanceView:
    row = read(rt, queries.assistance_request, str(request_id))
    if row is None:
        raise NotFound("assistance.not_found", f"no assistance request {request_id}")
    return AssistanceView.model_validate(row)
