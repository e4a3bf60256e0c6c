"""The pioneer card (区域共管先锋卡): organisations registered in the district, cards, check-ins.

A refused card says why, with a code the phone can show: ``card.foreign`` (another district's
card), ``card.revoked`` (lost and reissued, or the holder left), ``card.not_found`` (never issued
here), ``organisation.not_registered``.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response

from services.inflow.adapters import practice_views
from services.inflow.domain.pioneer_card import CARD_PATTERN, PioneerCard
from services.inflow.entrypoints import card_images
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
from services.inflow.entrypoints.practice_schemas import (
    CardView,
    CheckedInView,
    CheckIn,
    IssueCard,
    OrganisationView,
    RegisterOrganisation,
    ReissueCard,
    RevokeCard,
    WithdrawOrganisation,
)
from services.inflow.entrypoints.responses import Created, Page
from shared.security.masking import name_for
from shared.security.tokens import Principal

router = APIRouter(prefix="/api/v1", tags=["pioneer card"])

CardPath = Path(pattern=CARD_PATTERN, examples=["310115-XF-000001"])
Scale = Query(8, ge=1, le=40, description="pixels (PNG) or units (SVG) per module")


# --- organisations registered in the district -------------------------------------------------


@router.post(
    "/registered-organisations",
    status_code=201,
    response_model=Created,
    summary="Register a party organisation of the district: it may then take pioneer cards",
)
def register_organisation(body: RegisterOrganisation, rt: Runtime, who: Writer) -> Created:
    new = act(rt, app_of(rt).register_organisation, **body.model_dump(), registered_by=who.subject)
    return Created(id=new)


@router.post(
    "/registered-organisations/{organisation_id}/withdrawal",
    status_code=204,
    summary="Take an organisation off the register (it takes no card after that day)",
)
def withdraw_organisation(
    organisation_id: UUID, body: WithdrawOrganisation, rt: Runtime, who: Writer
) -> None:
    app = app_of(rt)
    act(
        rt,
        app.withdraw_organisation,
        organisation_id,
        **body.model_dump(),
        withdrawn_by=who.subject,
    )


@router.get(
    "/registered-organisations",
    response_model=Page[OrganisationView],
    summary="Organisations registered in the district",
)
def list_organisations(
    rt: Runtime,
    _: Reader,
    active: bool | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[OrganisationView]:
    rows, total = read(
        rt, practice_views.list_organisations, active=active, offset=offset, limit=limit
    )
    items = [OrganisationView.model_validate(r) for r in rows]
    return Page[OrganisationView](items=items, total=total, offset=offset, limit=limit)


# --- cards -------------------------------------------------------------------------------------


@router.post(
    "/members/{member_id}/card",
    status_code=201,
    response_model=CardView,
    summary="Issue a pioneer card to a member who reported here",
)
def issue_card(member_id: UUID, body: IssueCard, rt: Runtime, who: Writer) -> CardView:
    card = act(rt, app_of(rt).issue_card, member_id, issued_by=who.subject, **body.model_dump())
    return _view(rt, card, who)


@router.get(
    "/members/{member_id}/card",
    response_model=CardView,
    summary="The member's valid pioneer card",
)
def card_of(member_id: UUID, rt: Runtime, who: Reader) -> CardView:
    return _view(rt, app_of(rt).card_of(member_id), who)


@router.get("/cards", response_model=Page[CardView], summary="Pioneer cards issued here")
def list_cards(
    rt: Runtime,
    who: Reader,
    state: str | None = Query(None, pattern="^(valid|revoked)$"),
    member_id: UUID | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[CardView]:
    rows, total = read(
        rt,
        practice_views.list_cards,
        state=state,
        member_id=str(member_id) if member_id else None,
        offset=offset,
        limit=limit,
    )
    items = [CardView.model_validate(r | {"name": name_for(who, r["name"])}) for r in rows]
    return Page[CardView](items=items, total=total, offset=offset, limit=limit)


@router.get("/cards/{card_no}", response_model=CardView, summary="One pioneer card")
def get_card(rt: Runtime, who: Reader, card_no: str = CardPath) -> CardView:
    return _view(rt, app_of(rt).get_card(card_no), who)


@router.post(
    "/cards/{card_no}/revocation",
    response_model=CardView,
    summary="Revoke a card (lost, damaged, holder left): its number is refused from then on",
)
def revoke_card(body: RevokeCard, rt: Runtime, who: Writer, card_no: str = CardPath) -> CardView:
    card = act(rt, app_of(rt).revoke_card, card_no, **body.model_dump(), revoked_by=who.subject)
    return _view(rt, card, who)


@router.post(
    "/cards/{card_no}/reissue",
    status_code=201,
    response_model=CardView,
    summary="Reissue a lost or damaged card: a new number; the old one revoked and refused",
)
def reissue_card(body: ReissueCard, rt: Runtime, who: Writer, card_no: str = CardPath) -> CardView:
    card = act(rt, app_of(rt).reissue_card, card_no, **body.model_dump(), issued_by=who.subject)
    return _view(rt, card, who)


@router.get(
    "/cards/{card_no}/qr.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
    summary="The card's QR code (SVG): the card number, for a phone to scan",
)
def card_qr_svg(rt: Runtime, _: Reader, card_no: str = CardPath, scale: int = Scale) -> Response:
    card = app_of(rt).get_card(card_no)
    return Response(card_images.qr_svg(card.number, scale), media_type="image/svg+xml")


@router.get(
    "/cards/{card_no}/qr.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
    summary="The card's QR code (PNG)",
)
def card_qr_png(rt: Runtime, _: Reader, card_no: str = CardPath, scale: int = Scale) -> Response:
    card = app_of(rt).get_card(card_no)
    return Response(card_images.qr_png(card.number, scale), media_type="image/png")


@router.get(
    "/cards/{card_no}/printable.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
    summary="The card to print (85.6 × 54 mm): district, holder, number, date and QR code",
)
def printable_card(rt: Runtime, who: Reader, card_no: str = CardPath) -> Response:
    card = app_of(rt).get_card(card_no)
    card.ensure_valid()  # a revoked card is never printed again
    image = card_images.printable_card(
        card_no=card.number,
        place=card.host_place,
        name=_holder_name(rt, card, who),
        issued_on=card.issued_on,
    )
    return Response(image, media_type="image/svg+xml")


# --- attendance by card ------------------------------------------------------------------------


@router.post(
    "/check-ins",
    status_code=201,
    response_model=CheckedInView,
    summary="Record attendance by card number at a registered organisation (after a scan)",
)
def check_in(body: CheckIn, rt: Runtime, who: Writer) -> CheckedInView:
    done = act(rt, app_of(rt).check_in, **body.model_dump(), recorded_by=who.subject)
    return CheckedInView.model_validate(done, from_attributes=True)


def _holder_name(rt: Any, card: PioneerCard, who: Principal) -> str:
    names = read(rt, practice_views.holder_names, [card.member_id])
    return name_for(who, names.get(card.member_id, ""))


def _view(rt: Any, card: PioneerCard, who: Principal) -> CardView:
    return CardView(
        card_no=card.number,
        member_id=UUID(card.member_id),
        name=_holder_name(rt, card, who),
        state=card.state,
        issued_on=card.issued_on,
        replaces=card.replaces,
        revoked_on=card.revoked_on,
        revocation_reason=card.revocation_reason,
        replaced_by=card.replaced_by,
    )
