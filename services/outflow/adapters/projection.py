"""The origin's read model: one row per member, for lists and filters."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from services.outflow.domain.member import MemberStatus, MobileMember
from shared.projection import Projector, upsert
from shared.validation import mask_phone, mask_resident_id

metadata = sa.MetaData()

members = sa.Table(
    "outflow_members",
    metadata,
    sa.Column("member_id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("resident_id_masked", sa.String(18), nullable=False),
    sa.Column("phone_masked", sa.String(30), nullable=False),
    sa.Column("sex", sa.String(10), nullable=False),
    sa.Column("origin_branch", sa.String(200), nullable=False),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("host_place", sa.String(6), index=True),
    sa.Column("certificate_no", sa.String(40)),
    sa.Column("departed_on", sa.Date),
    sa.Column("reported_on", sa.Date),
    sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)


class OutflowProjector(Projector):
    name = "projection:outflow_members"
    metadata = metadata

    def handle(self, conn: sa.Connection, event: Any) -> None:
        key = {"member_id": str(event.originator_id)}
        common = {"updated_at": event.timestamp, "version": event.originator_version}
        if isinstance(event, MobileMember.Registered):
            upsert(
                conn,
                members,
                key,
                common
                | {
                    "name": event.name,
                    "resident_id_masked": mask_resident_id(event.resident_id),
                    "phone_masked": mask_phone(event.phone),
                    "sex": event.sex,
                    "origin_branch": event.origin_branch,
                    "status": MemberStatus.AT_HOME.value,
                    "registered_at": event.timestamp,
                },
            )
        elif isinstance(event, MobileMember.Departed):
            conn.execute(
                members.update()
                .where(members.c.member_id == key["member_id"])
                .values(
                    status=MemberStatus.DEPARTED.value,
                    host_place=event.host_place,
                    certificate_no=event.certificate_no,
                    departed_on=event.departed_on,
                    reported_on=None,
                    **common,
                )
            )
        elif isinstance(event, MobileMember.HostReportReceived):
            conn.execute(
                members.update()
                .where(members.c.member_id == key["member_id"])
                .values(
                    reported_on=event.reported_on,
                    **common,
                )
            )
