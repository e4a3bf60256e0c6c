"""The host's read model: one row per hosted member, for lists and filters."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from services.inflow.domain.member import HostedMember, HostStatus
from shared.projection import Projector, upsert
from shared.validation import mask_phone, mask_resident_id

metadata = sa.MetaData()

hosted = sa.Table(
    "inflow_members",
    metadata,
    sa.Column("member_id", sa.String(36), primary_key=True),
    sa.Column("origin_member_id", sa.String(36), nullable=False, index=True),
    sa.Column("origin_place", sa.String(6), nullable=False, index=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("resident_id_masked", sa.String(18), nullable=False),
    sa.Column("phone_masked", sa.String(30), nullable=False),
    sa.Column("employer", sa.String(200), nullable=False, index=True),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("certificate_no", sa.String(40), nullable=False),
    sa.Column("departed_on", sa.Date, nullable=False),
    sa.Column("reported_on", sa.Date),
    sa.Column("expected_since", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)


class InflowProjector(Projector):
    name = "projection:inflow_members"
    metadata = metadata

    def handle(self, conn: sa.Connection, event: Any) -> None:
        key = {"member_id": str(event.originator_id)}
        if isinstance(event, HostedMember.ArrivalExpected):
            upsert(
                conn,
                hosted,
                key,
                {
                    "origin_member_id": event.origin_member_id,
                    "origin_place": event.origin_place,
                    "name": event.name,
                    "resident_id_masked": mask_resident_id(event.resident_id),
                    "phone_masked": mask_phone(event.phone),
                    "employer": event.employer,
                    "status": HostStatus.EXPECTED.value,
                    "certificate_no": event.certificate_no,
                    "departed_on": event.departed_on,
                    "expected_since": event.timestamp,
                    "updated_at": event.timestamp,
                },
            )
        elif isinstance(event, HostedMember.Reported):
            conn.execute(
                hosted.update()
                .where(hosted.c.member_id == key["member_id"])
                .values(
                    status=HostStatus.REPORTED.value,
                    reported_on=event.reported_on,
                    updated_at=event.timestamp,
                )
            )
