"""The organisation the county's members have at a host office, as the host reports it, and the
county's decisions on its growth (docs/practices.md, "Organisations that grow")."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from services.outflow.application import NotFoundError
from services.outflow.entrypoints.deps import ERRORS, Reader, Runtime, Writer
from shared.validation.bounds import Day, Text

router = APIRouter(prefix="/api/v1", tags=["organisation tree"], responses=ERRORS)
Host = Path(pattern=r"^[0-9]{6}$", examples=["310115"])


class Decide(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["approved", "refused"]
    decided_by: Text(200) = Field(examples=["中共平邑县委组织部"])
    decided_on: Day
    reason: Text(500, min_len=0, multiline=True) = ""


class TreeAtHost(BaseModel):
    origin_place: str
    host_place: str
    organisation_id: str
    level: Literal["branches", "general_branch", "committee"]
    name: str
    approved_by: str
    branches: list[dict[str, Any]] = Field(description="branch_id, name, members of this county")
    member_count: int
    as_of: date | None
    proposals: list[dict[str, Any]]


class History(BaseModel):
    host_place: str
    items: list[dict[str, Any]]


def tree_of(rt: Any, host_place: str) -> dict[str, Any]:
    view = rt.app.host_organisation(host_place)
    if view is None:
        raise NotFoundError("organisation.not_found", f"no organisation reported by {host_place}")
    proposals = [
        {k: v for k, v in p.items() if k != "branches"} | {"branch_count": len(p["branches"])}
        for p in view.proposals.values()
    ]
    return {
        "origin_place": view.origin_place,
        "host_place": view.host_place,
        "organisation_id": view.organisation_id,
        "level": view.level,
        "name": view.name,
        "approved_by": view.approved_by,
        # As last reported: with a proposal, an applied change or a report of the counts.
        "branches": view.branches,
        "member_count": view.member_count,
        "as_of": view.as_of,
        "proposals": proposals,
    }


@router.get(
    "/host-organisations/{host_place}",
    response_model=TreeAtHost,
    summary="The organisation tree at a host office, with member counts, as the host reports it",
)
def get_tree(rt: Runtime, _: Reader, host_place: str = Host) -> dict[str, Any]:
    return tree_of(rt, host_place)


@router.post(
    "/host-organisations/{host_place}/proposals/{proposal_id}/decision",
    response_model=TreeAtHost,
    summary="Approve or refuse a host office's proposal (a general branch 党总支, committee 党委)",
)
def decide(
    proposal_id: UUID, body: Decide, rt: Runtime, who: Writer, host_place: str = Host
) -> dict[str, Any]:
    rt.app.decide_organisation_change(
        host_place, str(proposal_id), **body.model_dump(), recorded_by=who.subject
    )
    rt.after_write()
    return tree_of(rt, host_place)


@router.get(
    "/host-organisations/{host_place}/history",
    response_model=History,
    summary="Every step of the organisation's growth: proposals, decisions, applied changes",
)
def history(rt: Runtime, _: Reader, host_place: str = Host) -> dict[str, Any]:
    view = rt.app.host_organisation(host_place)
    if view is None:
        raise NotFoundError("organisation.not_found", f"no organisation reported by {host_place}")
    return {"host_place": host_place, "items": list(view.history)}
