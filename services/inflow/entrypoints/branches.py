"""Mobile-member branches (流动党员党支部), joint branches (联合党支部) and proposals."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

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
from services.inflow.entrypoints.schemas import AssignBranch, FormBranch
from services.inflow.entrypoints.views import (
    BranchDetail,
    BranchView,
    Created,
    Page,
    Proposals,
    redact_for,
)
from shared.http.errors import NotFound

router = APIRouter(prefix="/api/v1", tags=["branches"])


@router.get(
    "/branch-proposals",
    response_model=Proposals,
    summary="Where enough unbranched members share an employer or locality to form a branch",
)
def list_proposals(rt: Runtime, who: Reader) -> Proposals:
    proposals = read(rt, queries.proposals, minimum=app_of(rt).branch_minimum)
    return redact_for(who, Proposals.model_validate(proposals))


@router.post(
    "/branches",
    status_code=201,
    response_model=Created,
    summary="Form a branch: an approved act, naming who approved and which committee",
)
def form_branch(body: FormBranch, rt: Runtime, who: Writer) -> Created:
    branch_id = act(rt, app_of(rt).form_branch, **body.model_dump(), recorded_by=who.subject)
    return Created(id=branch_id)


@router.get("/branches", response_model=Page[BranchView], summary="Branches in this host place")
def list_branches(
    rt: Runtime, _: Reader, offset: Offset = 0, limit: Limit = 50
) -> Page[BranchView]:
    rows, total = read(
        rt, queries.list_branches, maximum=app_of(rt).branch_maximum, offset=offset, limit=limit
    )
    items = [BranchView.model_validate(r) for r in rows]
    return Page[BranchView](items=items, total=total, offset=offset, limit=limit)


@router.get(
    "/branches/{branch_id}", response_model=BranchDetail, summary="One branch with its members"
)
def get_branch(branch_id: UUID, rt: Runtime, who: Reader) -> BranchDetail:
    row = read(rt, queries.branch, str(branch_id), maximum=app_of(rt).branch_maximum)
    if row is None:
        raise NotFound("branch.not_found", f"no branch {branch_id}")
    return redact_for(who, BranchDetail.model_validate(row))


@router.post(
    "/branches/{branch_id}/members",
    status_code=204,
    summary="Assign a reported member to a branch (the origin is told)",
)
def assign_member(branch_id: UUID, body: AssignBranch, rt: Runtime, _: Writer) -> None:
    act(rt, app_of(rt).assign_branch, branch_id, body.member_id)
