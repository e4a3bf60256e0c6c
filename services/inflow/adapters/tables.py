"""Read-model tables of the host's service (masked personal data only)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

members = sa.Table(
    "inflow_hosted_members",
    metadata,
    sa.Column("member_id", sa.String(36), primary_key=True),
    sa.Column("origin_member_id", sa.String(36), index=True),
    sa.Column("origin_place", sa.String(6), nullable=False, index=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("resident_id_masked", sa.String(18), nullable=False),
    sa.Column("phone_masked", sa.String(30), nullable=False),
    sa.Column("employer", sa.String(200), nullable=False, index=True),
    sa.Column("locality", sa.String(200), nullable=False, server_default="", index=True),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("arrival", sa.String(20), nullable=False),
    sa.Column("confirmed", sa.Boolean, nullable=False),
    sa.Column("certificate_no", sa.String(40)),
    sa.Column("departed_on", sa.Date),
    sa.Column("reported_on", sa.Date),
    sa.Column("overdue_flagged_for", sa.Date),
    sa.Column("branch_id", sa.String(36), index=True),
    sa.Column("branch_name", sa.String(200), nullable=False, server_default=""),
    sa.Column("left_on", sa.Date),
    sa.Column("origin_status", sa.String(20)),
    sa.Column("letter_no", sa.String(60)),
    sa.Column("letter_valid_until", sa.Date),
    sa.Column("expected_since", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

branches = sa.Table(
    "inflow_branches",
    metadata,
    sa.Column("branch_id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("basis", sa.String(20), nullable=False),
    sa.Column("basis_value", sa.String(200), nullable=False),
    sa.Column("approved_by", sa.String(100), nullable=False),
    sa.Column("approving_committee", sa.String(200), nullable=False),
    sa.Column("committee_place", sa.String(6), nullable=False),
    sa.Column("approved_on", sa.Date, nullable=False),
    sa.Column("member_count", sa.Integer, nullable=False),
    sa.Column("formed_at", sa.DateTime(timezone=True), nullable=False),
)

# A branch's state once it changed after formation (merged, dissolved, admitted beyond the norm):
# a table of its own, so that stores whose branch table predates these columns need no migration.
branch_states = sa.Table(
    "inflow_branch_states",
    metadata,
    sa.Column("branch_id", sa.String(36), primary_key=True),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("merged_into", sa.String(36)),
    sa.Column("ended_on", sa.Date),
    sa.Column("end_reason", sa.String(200)),
    sa.Column("over_norm_reason", sa.String(200)),
)

activities = sa.Table(
    "inflow_activities",
    metadata,
    sa.Column("activity_id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(30), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("held_on", sa.Date, nullable=False, index=True),
    sa.Column("organiser", sa.String(200), nullable=False),
    sa.Column("attendee_count", sa.Integer, nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
)

attendance = sa.Table(
    "inflow_attendance",
    metadata,
    sa.Column("activity_id", sa.String(36), primary_key=True),
    sa.Column("member_id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(30), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("held_on", sa.Date, nullable=False),
    sa.Column("year", sa.Integer, nullable=False),
    sa.Column("organiser", sa.String(200), nullable=False),
    sa.Index("ix_inflow_attendance_member_year", "member_id", "year"),
)

evaluations = sa.Table(
    "inflow_evaluations",
    metadata,
    sa.Column("evaluation_id", sa.String(36), primary_key=True),
    sa.Column("member_id", sa.String(36), nullable=False, index=True),
    sa.Column("year", sa.Integer, nullable=False, index=True),
    sa.Column("origin_place", sa.String(6), nullable=False),
    sa.Column("host_grade", sa.String(30)),
    sa.Column("comments", sa.Text, nullable=False, server_default=""),
    sa.Column("attendance_count", sa.Integer),
    sa.Column("attendance_by_kind", sa.JSON),
    sa.Column("evaluated_by", sa.String(100)),
    sa.Column("origin_grade", sa.String(30)),
    sa.Column("concluded_grade", sa.String(30)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    # The joint review (联合评议) the origin recorded when the two evaluations disagreed.
    sa.Column("agreed_grade", sa.String(30)),
    sa.Column("reviewed_on", sa.Date),
)

assistance = sa.Table(
    "inflow_assistance_requests",
    metadata,
    sa.Column("request_id", sa.String(36), primary_key=True),
    sa.Column("member_id", sa.String(36), nullable=False, index=True),
    sa.Column("origin_place", sa.String(6), nullable=False),
    sa.Column("amount_fen", sa.BigInteger, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("requested_on", sa.Date, nullable=False),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
