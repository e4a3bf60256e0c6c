"""A member's yearly commitment (党员承诺 / 亮牌) and service hours in host service teams, and
what the host knows of the member's activity certificate (docs/practices.md)."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from services.inflow.entrypoints.deps import Reader, Runtime, Writer, act, app_of
from shared.validation.bounds import Day, Text, Year

router = APIRouter(prefix="/api/v1", tags=["commitments and service"])


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MakeCommitment(Strict):
    year: Year
    text: Text(1000, multiline=True) = Field(examples=["带头遵守社区公约，每月参加一次志愿服务"])
    made_on: Day


class RecordService(Strict):
    team: Text(200) = Field(examples=["浦源社区党员志愿服务队"])
    kind: Literal["volunteer_team", "three_sends_one_help", "other"]
    served_on: Day
    hours: float = Field(gt=0, le=24, examples=[3.5])


class EntryRecorded(BaseModel):
    entry_id: str


class ServiceView(BaseModel):
    member_id: str
    commitments: list[dict[str, Any]] = Field(description="year, text, made_on")
    entries: list[dict[str, Any]] = Field(description="entry_id, team, kind, served_on, hours")
    service_hours: float


class HostCertificate(BaseModel):
    member_id: str
    certificate_no: str | None = Field(description="the current number; none once cancelled")
    void: dict[str, dict[str, Any]] = Field(description="void number → reason, on, replaced_by")


@router.post(
    "/members/{member_id}/commitments",
    status_code=204,
    summary="Record the member's public commitment for a year (党员承诺 / 亮牌)",
)
def commit(member_id: UUID, body: MakeCommitment, rt: Runtime, who: Writer) -> None:
    act(rt, app_of(rt).record_commitment, member_id, **body.model_dump(), recorded_by=who.subject)


@router.post(
    "/members/{member_id}/service",
    status_code=201,
    response_model=EntryRecorded,
    summary="Record hours served in a host service team (volunteer team, 三送一扶 visit)",
)
def serve(member_id: UUID, body: RecordService, rt: Runtime, who: Writer) -> dict[str, str]:
    entry_id = act(
        rt, app_of(rt).record_service, member_id, **body.model_dump(), recorded_by=who.subject
    )
    return {"entry_id": entry_id}


@router.get(
    "/members/{member_id}/service",
    response_model=ServiceView,
    summary="The member's commitments and service hours, by year",
)
def service(
    member_id: UUID, rt: Runtime, _: Reader, year: int | None = Query(None, ge=2000, le=2100)
) -> dict[str, Any]:
    app = app_of(rt)
    app.get_member(member_id)  # 404 for an unknown member
    record = app.service_record(member_id)
    if record is None:
        return {"member_id": str(member_id), "commitments": [], "entries": [], "service_hours": 0}
    entries = [e for e in record.entries if year is None or e["served_on"][:4] == str(year)]
    commitments = [c for y, c in sorted(record.commitments.items()) if year in (None, int(y))]
    return {
        "member_id": str(member_id),
        "commitments": commitments,
        "entries": entries,
        "service_hours": sum(e["hours"] for e in entries),
    }


@router.get(
    "/members/{member_id}/certificate",
    response_model=HostCertificate,
    summary="The member's current activity certificate number and the numbers made void",
)
def certificate(member_id: UUID, rt: Runtime, _: Reader) -> dict[str, Any]:
    app = app_of(rt)
    member = app.get_member(member_id)
    notices = app.certificate_notices(member_id)
    return {
        "member_id": str(member_id),
        "certificate_no": member.certificate_no,
        "void": notices.void if notices else {},
    }
