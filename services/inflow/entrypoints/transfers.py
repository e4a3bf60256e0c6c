"""Leaving the host place, transfer in (组织关系转接), and who owns a member's details."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from services.inflow.entrypoints.deps import Runtime, Writer, act, app_of
from services.inflow.entrypoints.schemas import EditDetails, LeaveHost, ReturnReceipt
from shared.validation import validate_phone

router = APIRouter(prefix="/api/v1/members/{member_id}", tags=["transfers"])


@router.post("/leave", status_code=204, summary="The member leaves the host place (home or onward)")
def leave(member_id: UUID, body: LeaveHost, rt: Runtime, _: Writer) -> None:
    act(rt, app_of(rt).record_leaving, member_id, **body.model_dump())


@router.post(
    "/transfer-receipt",
    status_code=204,
    summary="Return the receipt (回执) for an introduction letter: the host now owns the record",
)
def return_receipt(member_id: UUID, body: ReturnReceipt, rt: Runtime, _: Writer) -> None:
    act(rt, app_of(rt).return_transfer_receipt, member_id, **body.model_dump())


@router.patch(
    "/details",
    status_code=204,
    summary="Edit personal details: refused (403) unless the membership was transferred in",
)
def edit_details(member_id: UUID, body: EditDetails, rt: Runtime, _: Writer) -> None:
    changes = body.model_dump(exclude_none=True)
    if "phone" in changes:
        changes["phone"] = validate_phone(changes["phone"])
    act(rt, app_of(rt).edit_member_details, member_id, changes)
