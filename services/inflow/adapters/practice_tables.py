"""Read-model tables of the pioneer card: cards issued and organisations registered in the
district (docs/practices.md). A table set of its own, so that older stores need no migration."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

cards = sa.Table(
    "inflow_pioneer_cards",
    metadata,
    sa.Column("card_no", sa.String(20), primary_key=True),
    sa.Column("member_id", sa.String(36), nullable=False, index=True),
    sa.Column("state", sa.String(20), nullable=False, index=True),
    sa.Column("issued_on", sa.Date, nullable=False),
    sa.Column("replaces", sa.String(20)),
    sa.Column("revoked_on", sa.Date),
    sa.Column("revocation_reason", sa.String(20), nullable=False, server_default=""),
    sa.Column("replaced_by", sa.String(20)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

organisations = sa.Table(
    "inflow_registered_organisations",
    metadata,
    sa.Column("organisation_id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(30), nullable=False),
    sa.Column("address", sa.String(200), nullable=False, server_default=""),
    sa.Column("registered_on", sa.Date, nullable=False),
    sa.Column("withdrawn_on", sa.Date),
)
