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
from services.inflow.entrypoints.responses import (
    BranchDetail,
    BranchView,
    Created,
    Page,
    Proposals,
    redact_for,
)
from services.inflow.entrypoints.schemas import (
    AssignBranch,
    DissolveBranch,
    FormBranch,
    MergeBranch,
    MoveBranchMember,
    RemoveBranchMember,
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
    app = app_of(rt)
    rows, total = read(
        rt,
        queries.list_branches,
        maximum=app.branch_maximum,
        minimum=app.branch_minimum,
        offset=offset,
        limit=limit,
    )
    items = [BranchView.model_validate(r) for r in rows]
    return Page[BranchView](items=items, total=total, offset=offset, limit=limit)


@router.get(
    "/branches/{branch_id}", response_model=BranchDetail, summary="One branch with its members"
)
def get_branch(branch_id: UUID, rt: Runtime, who: Reader) -> BranchDetail:
    app = app_of(rt)
    row = read(
        rt,
        queries.branch,
        str(branch_id),
        maximum=app.branch_maximum,
        minimum=app.branch_minimum,
    )
    if row is None:
        raise NotFound("branch.not_found", f"no branch {branch_id}")
    return redact_for(who, BranchDetail.model_validate(row))


@router.post(
    "/branches/{branch_id}/members",
    status_code=204,
    summary="Assign an unbranched reported member to a branch (the origin is told)",
)
def assign_member(branch_id: UUID, body: AssignBranch, rt: Runtime, who: Writer) -> None:
    act(
        rt,
        app_of(rt).assign_branch,
        branch_id,
        body.member_id,
        over_norm_reason=body.over_norm_reason,
        recorded_by=who.subject,
    )


@router.post(
    "/branches/{branch_id}/members/{member_id}/move",
    status_code=204,
    summary="Move a member to another branch, with the reason (the origin is told)",
)
def move_member(
    branch_id: UUID, member_id: UUID, body: MoveBranchMember, rt: Runtime, who: Writer
) -> None:
    fields = body.model_dump()
    act(rt, app_of(rt).move_branch_member, branch_id, member_id, **fields, recorded_by=who.subject)


@router.post(
    "/branches/{branch_id}/members/{member_id}/remove",
    status_code=204,
    summary="Remove a member from a branch, with the reason (never below the floor of 3)",
)
def remove_member(
    branch_id: UUID, member_id: UUID, body: RemoveBranchMember, rt: Runtime, who: Writer
) -> None:
    fields = body.model_dump()
    act(
        rt, app_of(rt).remove_branch_member, branch_id, member_id, **fields, recorded_by=who.subject
    )


@router.post(
    "/branches/{branch_id}/merge",
    status_code=204,
    summary="Merge a branch into another: its members move there, it ends as merged",
)
def merge_branch(branch_id: UUID, body: MergeBranch, rt: Runtime, who: Writer) -> None:
    act(rt, app_of(rt).merge_branch, branch_id, **body.model_dump(), recorded_by=who.subject)


@router.post(
    "/branches/{branch_id}/dissolve",
    status_code=204,
    summary="Dissolve a branch: its members become unbranched (reason and date recorded)",
)
def dissolve_branch(branch_id: UUID, body: DissolveBranch, rt: Runtime, who: Writer) -> None:
    act(rt, app_of(rt).dissolve_branch, branch_id, **body.model_dump(), recorded_by=who.subject)
