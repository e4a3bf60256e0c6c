"""The host office's organisation tree for one origin county: branches, a general branch
(党总支), a committee (党委); proposals computed from the members, decided by the origin county
(docs/practices.md, "Organisations that grow")."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from services.inflow.adapters.tree_queries import tree_branches
from services.inflow.domain.organisation import HostOrganisation, Thresholds, rank
from services.inflow.entrypoints.deps import Reader, Runtime, Writer, act, app_of, read
from shared.validation.bounds import Text

router = APIRouter(prefix="/api/v1", tags=["organisation tree"])
Origin = Path(pattern=r"^[0-9]{6}$", examples=["371326"])


class ProposeChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to_level: Literal["general_branch", "committee"] | None = Field(
        None, description="default: the level the counts call for"
    )
    name: Text(200) = Field(examples=["平邑县驻上海流动党员党总支"])
    reason: Text(500, min_len=0, multiline=True) = ""


Level = Literal["branches", "general_branch", "committee"]


class TreeView(BaseModel):
    host_place: str
    origin_place: str
    level: Level
    name: str
    approved_by: str
    approved_on: date | None
    last_reported_on: date | None = Field(description="when the county last had the counts")
    branch_count: int
    member_count: int
    branches: list[dict[str, Any]] = Field(description="branch_id, name, members of the county")
    due_level: Level
    proposal: dict[str, Any] | None = Field(description="what the counts call for, if above")
    pending: dict[str, Any] | None = Field(description="the proposal awaiting the county")
    thresholds: dict[str, int]


class Proposed(BaseModel):
    proposal_id: str
    to_level: Level


class History(BaseModel):
    origin_place: str
    items: list[dict[str, Any]]


def thresholds_of(rt: Any) -> Thresholds:
    s = rt.settings
    return Thresholds(
        general_branch_min_branches=s.general_branch_min_branches,
        general_branch_min_members=s.general_branch_min_members,
        committee_min_members=s.committee_min_members,
    )


def tree_view(rt: Any, origin_place: str) -> dict[str, Any]:
    tree: HostOrganisation | None = app_of(rt).organisation(origin_place)
    found = read(rt, tree_branches, origin_place=origin_place)
    members = sum(b["members"] for b in found)
    t = thresholds_of(rt)
    due = t.due(len(found), members)
    level = tree.level if tree else "branches"
    pending = dict(tree.pending) if tree and tree.pending else None
    if pending:
        pending.pop("branches", None)
    return {
        "host_place": rt.place,
        "origin_place": origin_place,
        "level": level,
        "name": tree.name if tree else "",
        "approved_by": tree.approved_by if tree else "",
        "approved_on": tree.approved_on if tree else None,
        "last_reported_on": tree.last_reported_on if tree else None,
        "branch_count": len(found),
        "member_count": members,
        "branches": found,
        "due_level": due,
        # Computed like branch proposals: what the counts call for, if above the current level.
        "proposal": (
            {"to_level": due, "branch_count": len(found), "member_count": members}
            if rank(due) > rank(level) and pending is None
            else None
        ),
        "pending": pending,
        "thresholds": t.__dict__,
    }


@router.get(
    "/organisations/{origin_place}",
    response_model=TreeView,
    summary="The organisation tree for one origin county's members here, with member counts",
)
def get_tree(rt: Runtime, _: Reader, origin_place: str = Origin) -> dict[str, Any]:
    return tree_view(rt, origin_place)


@router.post(
    "/organisations/{origin_place}/proposals",
    status_code=201,
    response_model=Proposed,
    summary="Propose a general branch (党总支) or committee (党委) to the origin county",
)
def propose(
    body: ProposeChange, rt: Runtime, who: Writer, origin_place: str = Origin
) -> dict[str, Any]:
    found = read(rt, tree_branches, origin_place=origin_place)
    t = thresholds_of(rt)
    to_level = body.to_level or t.due(len(found), sum(b["members"] for b in found))
    proposal_id = act(
        rt,
        app_of(rt).propose_organisation_change,
        origin_place=origin_place,
        to_level=to_level,
        name=body.name,
        reason=body.reason,
        branches=found,
        thresholds=t,
        recorded_by=who.subject,
    )
    return {"proposal_id": proposal_id, "to_level": to_level}


@router.get(
    "/organisations/{origin_place}/history",
    response_model=History,
    summary="Every proposal, approval, refusal of the tree, oldest first",
)
def history(rt: Runtime, _: Reader, origin_place: str = Origin) -> dict[str, Any]:
    tree = app_of(rt).organisation(origin_place)
    return {"origin_place": origin_place, "items": list(tree.history) if tree else []}


@router.post(
    "/organisations/{origin_place}/report",
    response_model=TreeView,
    summary="Send the origin county the tree as it stands, with its member counts",
)
def report(rt: Runtime, who: Writer, origin_place: str = Origin) -> dict[str, Any]:
    found = read(rt, tree_branches, origin_place=origin_place)
    act(
        rt,
        app_of(rt).report_organisation,
        origin_place=origin_place,
        branches=found,
        recorded_by=who.subject,
    )
    return tree_view(rt, origin_place)
