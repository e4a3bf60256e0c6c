"""The pioneer card's read model: cards issued (with their holders) and organisations registered
in the district; its own position, so a card it cannot hold halts no other list."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from services.inflow.adapters.practice_tables import cards, organisations
from services.inflow.adapters.queries import Rows, page
from services.inflow.adapters.tables import members
from services.inflow.domain.pioneer_card import PioneerCard
from services.inflow.domain.registered_organisations import RegisteredOrganisation
from shared.projection import ReadModel, upsert


class PioneerCards(ReadModel):
    name = "pioneer_cards"
    tables = (cards, organisations)
    # The creation events derive from Aggregate.Created, not from the aggregates' Event.
    handles = (
        PioneerCard.Event,
        PioneerCard.Issued,
        RegisteredOrganisation.Event,
        RegisteredOrganisation.Registered,
    )

    def handle(self, conn: sa.Connection, event: Any) -> None:
        if isinstance(event, PioneerCard.Issued):
            values = {
                "member_id": event.member_id,
                "state": "valid",
                "issued_on": event.issued_on,
                "replaces": event.replaces,
                "updated_at": event.timestamp,
            }
            upsert(conn, cards, {"card_no": event.number}, values)
        elif isinstance(event, PioneerCard.Revoked):
            card = self.app.repository.get(event.originator_id, version=event.originator_version)
            conn.execute(
                cards.update()
                .where(cards.c.card_no == card.number)
                .values(
                    state="revoked",
                    revoked_on=event.revoked_on,
                    revocation_reason=event.reason,
                    replaced_by=event.replaced_by,
                    updated_at=event.timestamp,
                )
            )
        elif isinstance(event, RegisteredOrganisation.Registered):
            values = {
                "name": event.name,
                "kind": event.kind,
                "address": event.address,
                "registered_on": event.registered_on,
            }
            upsert(conn, organisations, {"organisation_id": str(event.originator_id)}, values)
        elif isinstance(event, RegisteredOrganisation.Withdrawn):
            conn.execute(
                organisations.update()
                .where(organisations.c.organisation_id == str(event.originator_id))
                .values(withdrawn_on=event.withdrawn_on)
            )


def list_cards(
    conn: sa.Connection, *, state: str | None, member_id: str | None, offset: int, limit: int
) -> Rows:
    query = sa.select(cards, members.c.name).join(
        members, members.c.member_id == cards.c.member_id, isouter=True
    )
    if state:
        query = query.where(cards.c.state == state)
    if member_id:
        query = query.where(cards.c.member_id == member_id)
    rows, total = page(conn, query, [cards.c.card_no], offset, limit)
    return [r | {"name": r["name"] or ""} for r in rows], total


def list_organisations(
    conn: sa.Connection, *, active: bool | None, offset: int, limit: int
) -> Rows:
    query = sa.select(organisations)
    if active is True:
        query = query.where(organisations.c.withdrawn_on.is_(None))
    elif active is False:
        query = query.where(organisations.c.withdrawn_on.is_not(None))
    return page(conn, query, [organisations.c.name, organisations.c.organisation_id], offset, limit)


def holder_names(conn: sa.Connection, member_ids: list[str]) -> dict[str, str]:
    if not member_ids:
        return {}
    rows = conn.execute(
        sa.select(members.c.member_id, members.c.name).where(members.c.member_id.in_(member_ids))
    )
    return {r.member_id: r.name for r in rows}
