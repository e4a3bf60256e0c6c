"""The activity certificate (流动党员活动证): its state, the printable PDF, reissue of a lost one
and cancellation (docs/practices.md, "The activity certificate")."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from services.outflow.adapters.certificate_pdf import render_certificate
from services.outflow.domain.certificate_changes import valid_until
from services.outflow.domain.errors import WrongState
from services.outflow.domain.status import AWAY
from services.outflow.entrypoints.deps import ERRORS, Reader, Runtime, Writer
from shared.security.masking import name_for
from shared.validation.bounds import Day, Text, china_today
from shared.validation.places import place_name

router = APIRouter(prefix="/api/v1", tags=["certificates"], responses=ERRORS)


class Reissue(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Literal["lost", "damaged", "expired"] = Field(examples=["lost"])
    reissued_on: Day | None = None


class CertificateView(BaseModel):
    member_id: str
    number: str | None = Field(examples=["371326-000002"])
    state: Literal["valid", "expired", "cancelled", "none"]
    name: str
    origin_place: str
    origin_place_name: str | None
    origin_branch: str
    host_place: str | None
    host_place_name: str | None
    employer: str
    departed_on: date | None
    issued_on: date | None
    valid_until: date | None
    validity_months: int
    void: list[dict[str, Any]] = Field(description="numbers made void: number, reason, on")


class Cancel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Text(200) = Field(examples=["返乡，不再外出"])
    cancelled_on: Day | None = None


def certificate_of(rt: Any, member_id: UUID, today: date | None = None) -> dict[str, Any]:
    m = rt.app.get_member(member_id)
    months = rt.settings.certificate_validity_months
    issued = m.certificate_since() if m.certificate_no else None
    until = valid_until(issued, months) if issued else None
    today = today or china_today()
    state = "none" if not m.certificate_no else "expired" if until and today > until else "valid"
    if not m.certificate_no and m.void_certificates:
        state = "cancelled"
    if m.status not in AWAY:
        state = "none"  # returned home, transferred or removed: the certificate was for going out
    return {
        "member_id": str(m.id),
        "number": m.certificate_no,
        "state": state,
        "name": m.name,
        "origin_place": m.origin_place,
        "origin_place_name": place_name(m.origin_place),
        "origin_branch": m.origin_branch,
        "host_place": m.host_place,
        "host_place_name": place_name(m.host_place) if m.host_place else None,
        "employer": m.employer,
        "departed_on": m.departed_on,
        "issued_on": issued,
        "valid_until": until,
        "validity_months": months,
        "void": list(m.void_certificates),
    }


@router.get(
    "/members/{member_id}/certificate",
    response_model=CertificateView,
    summary="The member's activity certificate",
)
def get_certificate(member_id: UUID, rt: Runtime, who: Reader) -> dict[str, Any]:
    found = certificate_of(rt, member_id)
    return found | {"name": name_for(who, found["name"])}  # auditors see no one's name


@router.get(
    "/members/{member_id}/certificate.pdf",
    summary="The activity certificate as a printable PDF",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def certificate_pdf(member_id: UUID, rt: Runtime, who: Reader) -> Response:
    c = certificate_of(rt, member_id)
    c["name"] = name_for(who, c["name"])
    if c["state"] not in ("valid", "expired"):
        raise WrongState(
            f"member has no current activity certificate ({c['state']})", "certificate.none"
        )
    return Response(
        render_certificate(c),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="certificate-{c["number"]}.pdf"'},
    )


@router.post(
    "/members/{member_id}/certificate/reissue",
    response_model=CertificateView,
    summary="Reissue a lost or damaged certificate: the old number is void, a new one is issued",
)
def reissue(member_id: UUID, body: Reissue, rt: Runtime, who: Writer) -> dict[str, Any]:
    rt.app.reissue_certificate(
        member_id,
        reason=body.reason,
        reissued_on=body.reissued_on or china_today(),
        validity_months=rt.settings.certificate_validity_months,
        recorded_by=who.subject,
    )
    rt.after_write()
    return certificate_of(rt, member_id)


@router.post(
    "/members/{member_id}/certificate/cancel",
    response_model=CertificateView,
    summary="Cancel (注销) the certificate: its number is void, the host hears of it",
)
def cancel(member_id: UUID, body: Cancel, rt: Runtime, who: Writer) -> dict[str, Any]:
    rt.app.cancel_certificate(
        member_id,
        reason=body.reason,
        cancelled_on=body.cancelled_on or china_today(),
        recorded_by=who.subject,
    )
    rt.after_write()
    return certificate_of(rt, member_id)
