"""The origin's read models. No plaintext ID numbers, phones or addresses: masked values only."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

members = sa.Table(
    "outflow_members_v2",
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
    sa.Column("employer", sa.String(200)),
    sa.Column("departed_on", sa.Date),
    sa.Column("expected_months", sa.Integer),
    sa.Column("reported_on", sa.Date),
    sa.Column("returned_on", sa.Date),
    sa.Column("last_contact_on", sa.Date, index=True),
    sa.Column("last_verified_on", sa.Date),
    sa.Column("next_check_due", sa.Date, index=True),
    sa.Column("lost_reason", sa.String(40)),
    sa.Column("lost_on", sa.Date),
    sa.Column("suspended_on", sa.Date),
    sa.Column("host_branch", sa.String(200)),
    sa.Column("reporting_overdue_since", sa.Date),
    sa.Column("left_host_on", sa.Date),
    sa.Column("letter_no", sa.String(60)),
    sa.Column("letter_state", sa.String(20)),
    sa.Column("letter_issued_on", sa.Date),
    sa.Column("letter_valid_until", sa.Date),
    sa.Column("letter_received_on", sa.Date),
    sa.Column("closed", sa.Boolean, nullable=False, default=False),
    sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)

assessments = sa.Table(
    "outflow_assessments",
    metadata,
    sa.Column("assessment_id", sa.String(36), primary_key=True),
    sa.Column("member_id", sa.String(36), nullable=False, index=True),
    sa.Column("year", sa.Integer, nullable=False, index=True),
    sa.Column("state", sa.String(30), nullable=False, index=True),
    sa.Column("origin_grade", sa.String(30)),
    sa.Column("host_grade", sa.String(30)),
    sa.Column("host_place", sa.String(6)),
    sa.Column("attendance_count", sa.Integer),
    sa.Column("joint_review", sa.Boolean, nullable=False, default=False),
    sa.Column("proposed_grade", sa.String(30)),
    sa.Column("final_grade", sa.String(30)),
    sa.Column("resolution", sa.String(1000)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("member_id", "year"),
)

applications = sa.Table(
    "outflow_assistance_applications",
    metadata,
    sa.Column("application_id", sa.String(36), primary_key=True),
    sa.Column("member_id", sa.String(36), nullable=False, index=True),
    sa.Column("source", sa.String(20), nullable=False),
    sa.Column("reference", sa.String(200), nullable=False),
    sa.Column("host_place", sa.String(6)),
    sa.Column("amount_fen", sa.BigInteger, nullable=False),
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("requested_on", sa.Date, nullable=False),
    sa.Column("notice_from", sa.Date),
    sa.Column("notice_until", sa.Date),
    sa.Column("paid_on", sa.Date),
    sa.Column("rejection_reason", sa.String(500)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

fund = sa.Table(
    "outflow_fund",
    metadata,
    sa.Column("county", sa.String(6), primary_key=True),
    sa.Column("balance_fen", sa.BigInteger, nullable=False),
    sa.Column("reserved_fen", sa.BigInteger, nullable=False),
    sa.Column("contributed_fen", sa.BigInteger, nullable=False),
    sa.Column("paid_fen", sa.BigInteger, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

ledger = sa.Table(
    "outflow_fund_ledger",
    metadata,
    sa.Column("entry_no", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("amount_fen", sa.BigInteger, nullable=False),
    sa.Column("application_id", sa.String(36)),
    sa.Column("contributor", sa.String(200)),
    sa.Column("entry_date", sa.Date),
    sa.Column("balance_after_fen", sa.BigInteger, nullable=False),
    sa.Column("reserved_after_fen", sa.BigInteger, nullable=False),
    sa.Column("recorded_by", sa.String(200), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

arrivals = sa.Table(
    "outflow_unannounced_arrivals",
    metadata,
    sa.Column("arrival_id", sa.String(36), primary_key=True),
    sa.Column("host_place", sa.String(6), nullable=False),
    sa.Column("host_record_id", sa.String(100), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("resident_id_masked", sa.String(18), nullable=False),
    sa.Column("phone_masked", sa.String(30), nullable=False),
    sa.Column("reported_on", sa.Date, nullable=False),
    sa.Column("certificate_no", sa.String(40)),
    sa.Column("member_id", sa.String(36)),
    sa.Column("mismatches", sa.String(300), nullable=False),
    sa.Column("confirmed", sa.Boolean, nullable=False),
    sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
