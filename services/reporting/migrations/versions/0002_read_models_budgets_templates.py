"""reporting read models (cases, batches, payees, summary totals, daily intake), budgets, templates

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rpt_batch_payees",
        sa.Column("batch_id", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("case_no", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=60), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("welfare_type_code", sa.String(length=40), nullable=False),
        sa.Column("welfare_type_name", sa.String(length=200), nullable=False),
        sa.Column("regulation_ref", sa.String(length=200), nullable=True),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", "case_id", name=op.f("pk_rpt_batch_payees")),
    )
    op.create_table(
        "rpt_batches",
        sa.Column("batch_id", sa.String(length=64), nullable=False),
        sa.Column("district_code", sa.String(length=4), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=True),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=True),
        sa.Column("meeting_date", sa.Date(), nullable=True),
        sa.Column("approved_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(length=150), nullable=True),
        sa.Column("total_amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("case_count", sa.Integer(), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("payout_batch_id", sa.String(length=64), nullable=True),
        sa.Column("settled_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("settled_by", sa.String(length=150), nullable=True),
        sa.Column("paid_count", sa.Integer(), nullable=True),
        sa.Column("paid_total", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("closed_count", sa.Integer(), nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_rpt_batches")),
    )
    with op.batch_alter_table("rpt_batches", schema=None) as batch_op:
        batch_op.create_index("ix_rpt_batches_district_fy", ["district_code", "fiscal_year"], unique=False)

    op.create_table(
        "rpt_budgets",
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("district_code", sa.String(length=4), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=150), nullable=False),
        sa.PrimaryKeyConstraint("fiscal_year", "district_code", name=op.f("pk_rpt_budgets")),
    )
    op.create_table(
        "rpt_cases",
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("district_code", sa.String(length=4), nullable=False),
        sa.Column("case_no", sa.String(length=40), nullable=True),
        sa.Column("fiscal_year", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=60), nullable=True),
        sa.Column("first_name", sa.String(length=100), nullable=True),
        sa.Column("last_name", sa.String(length=100), nullable=True),
        sa.Column("case_type", sa.String(length=16), nullable=True),
        sa.Column("welfare_type_code", sa.String(length=40), nullable=True),
        sa.Column("welfare_type_name", sa.String(length=200), nullable=True),
        sa.Column("regulation_ref", sa.String(length=200), nullable=True),
        sa.Column("amount_requested", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("amount_current", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("registered_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("registered_on", sa.Date(), nullable=True),
        sa.Column("registered_month", sa.String(length=7), nullable=True),
        sa.Column("data_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("current_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("requested_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("status_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("disqualify_reason", sa.Text(), nullable=True),
        sa.Column("batch_id", sa.String(length=64), nullable=True),
        sa.Column("approved_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("amount_approved", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("pay_state", sa.String(length=16), nullable=True),
        sa.Column("pay_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("paid_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("paid_amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("bank_code", sa.String(length=3), nullable=True),
        sa.Column("branch_code", sa.String(length=4), nullable=True),
        sa.Column("account_name", sa.String(length=100), nullable=True),
        sa.Column("account_no", sa.String(length=15), nullable=True),
        sa.Column("bank_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_rpt_cases")),
    )
    with op.batch_alter_table("rpt_cases", schema=None) as batch_op:
        batch_op.create_index("ix_rpt_cases_batch_id", ["batch_id"], unique=False)
        batch_op.create_index("ix_rpt_cases_district_status", ["district_code", "status"], unique=False)
        batch_op.create_index(
            "ix_rpt_cases_fy_district_day", ["fiscal_year", "district_code", "registered_on"], unique=False
        )

    op.create_table(
        "rpt_daily_intake",
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("district_code", sa.String(length=4), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("case_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("fiscal_year", "district_code", "day", name=op.f("pk_rpt_daily_intake")),
    )
    op.create_table(
        "rpt_summary_totals",
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("district_code", sa.String(length=4), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("case_count", sa.Integer(), nullable=False),
        sa.Column("requested_satang", sa.BigInteger(), nullable=False),
        sa.Column("approved_count", sa.Integer(), nullable=False),
        sa.Column("approved_satang", sa.BigInteger(), nullable=False),
        sa.Column("paid_count", sa.Integer(), nullable=False),
        sa.Column("paid_satang", sa.BigInteger(), nullable=False),
        sa.Column("failed_count", sa.Integer(), nullable=False),
        sa.Column("failed_satang", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "fiscal_year", "district_code", "dimension", "key", name=op.f("pk_rpt_summary_totals")
        ),
    )
    op.create_table(
        "rpt_templates",
        sa.Column("district_code", sa.String(length=4), nullable=False),
        sa.Column("doc", sa.String(length=32), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=150), nullable=False),
        sa.PrimaryKeyConstraint("district_code", "doc", name=op.f("pk_rpt_templates")),
    )
    op.create_table(
        "rpt_welfare_types",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_th", sa.String(length=200), nullable=False),
        sa.Column("regulation_ref", sa.String(length=200), nullable=True),
        sa.Column("seen_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_rpt_welfare_types")),
    )


def downgrade() -> None:
    op.drop_table("rpt_welfare_types")
    op.drop_table("rpt_templates")
    op.drop_table("rpt_summary_totals")
    op.drop_table("rpt_daily_intake")
    with op.batch_alter_table("rpt_cases", schema=None) as batch_op:
        batch_op.drop_index("ix_rpt_cases_fy_district_day")
        batch_op.drop_index("ix_rpt_cases_district_status")
        batch_op.drop_index("ix_rpt_cases_batch_id")

    op.drop_table("rpt_cases")
    op.drop_table("rpt_budgets")
    with op.batch_alter_table("rpt_batches", schema=None) as batch_op:
        batch_op.drop_index("ix_rpt_batches_district_fy")

    op.drop_table("rpt_batches")
    op.drop_table("rpt_batch_payees")
