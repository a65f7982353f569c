"""cases, citizens, documents, home visits, status history; catalogue limits and programmes

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime
from shared.models import BigId

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("welfare_types", schema=None) as batch_op:
        batch_op.add_column(sa.Column("repeat_limit", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "repeat_limit_source", sa.String(length=20), nullable=False, server_default="configured"
            )
        )
        batch_op.add_column(sa.Column("updated_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("updated_by", sa.String(length=150), nullable=True))

    op.create_table(
        "programmes",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_th", sa.String(length=300), nullable=False),
        sa.Column("welfare_type_code", sa.String(length=40), nullable=False),
        sa.Column("reference", sa.String(length=300), nullable=True),
        sa.Column("rule_code", sa.String(length=80), nullable=False),
        sa.Column("excluded_welfare_type_code", sa.String(length=40), nullable=False),
        sa.Column("excluded_fiscal_year", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.Column("updated_by", sa.String(length=150), nullable=True),
        sa.ForeignKeyConstraint(
            ["excluded_welfare_type_code"],
            ["welfare_types.code"],
            name=op.f("fk_programmes_excluded_welfare_type_code_welfare_types"),
        ),
        sa.ForeignKeyConstraint(
            ["welfare_type_code"],
            ["welfare_types.code"],
            name=op.f("fk_programmes_welfare_type_code_welfare_types"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_programmes")),
    )
    op.create_table(
        "case_counters",
        sa.Column("fiscal_year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_no", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("fiscal_year", name=op.f("pk_case_counters")),
    )
    op.create_table(
        "citizens",
        sa.Column("national_id", sa.String(length=13), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("title", sa.String(length=40), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("national_id", name=op.f("pk_citizens")),
        sa.UniqueConstraint("id", name=op.f("uq_citizens_id")),
    )
    op.create_table(
        "households",
        sa.Column("house_id", sa.String(length=11), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("house_id", name=op.f("pk_households")),
    )
    op.create_table(
        "batch_locks",
        sa.Column("batch_id", sa.String(length=64), nullable=False),
        sa.Column("district_code", sa.String(length=4), nullable=False),
        sa.Column("locked_at", UTCDateTime(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_batch_locks")),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_no", sa.String(length=30), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("running_no", sa.Integer(), nullable=False),
        sa.Column("district_code", sa.String(length=4), nullable=False),
        sa.Column("national_id", sa.String(length=13), nullable=False),
        sa.Column("title", sa.String(length=40), nullable=False),
        sa.Column("sex", sa.String(length=10), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("age", sa.Integer(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("case_type", sa.String(length=10), nullable=False),
        sa.Column("house_id", sa.String(length=11), nullable=True),
        sa.Column("welfare_type_code", sa.String(length=40), nullable=False),
        sa.Column("programme_code", sa.String(length=40), nullable=True),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("hardship", sa.Text(), nullable=False),
        sa.Column("bank_code", sa.String(length=3), nullable=False),
        sa.Column("branch_code", sa.String(length=4), nullable=True),
        sa.Column("account_name", sa.String(length=100), nullable=False),
        sa.Column("account_no", sa.String(length=15), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("locked_batch_id", sa.String(length=64), nullable=True),
        sa.Column("locked_at", UTCDateTime(), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=150), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_code"], ["districts.code"], name=op.f("fk_cases_district_code_districts")
        ),
        sa.ForeignKeyConstraint(
            ["national_id"], ["citizens.national_id"], name=op.f("fk_cases_national_id_citizens")
        ),
        sa.ForeignKeyConstraint(
            ["programme_code"], ["programmes.code"], name=op.f("fk_cases_programme_code_programmes")
        ),
        sa.ForeignKeyConstraint(
            ["welfare_type_code"],
            ["welfare_types.code"],
            name=op.f("fk_cases_welfare_type_code_welfare_types"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("case_no", name=op.f("uq_cases_case_no")),
        sa.UniqueConstraint("fiscal_year", "running_no", name=op.f("uq_cases_fiscal_year_running_no")),
    )
    op.create_index("ix_cases_national_id_recorded_at", "cases", ["national_id", "recorded_at"])
    op.create_index("ix_cases_house_id_fiscal_year", "cases", ["house_id", "fiscal_year"])
    op.create_index("ix_cases_district_code_recorded_at", "cases", ["district_code", "recorded_at"])
    op.create_index("ix_cases_locked_batch_id", "cases", ["locked_batch_id"])
    op.create_table(
        "case_documents",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", UTCDateTime(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=150), nullable=False),
        sa.Column("replaced_at", UTCDateTime(), nullable=True),
        sa.Column("replaced_by", sa.String(length=150), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_documents_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_documents")),
    )
    op.create_index("ix_case_documents_case_id_kind", "case_documents", ["case_id", "kind"])
    op.create_table(
        "case_events",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("by", sa.String(length=150), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(none_as_null=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_events_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_events")),
    )
    op.create_index("ix_case_events_case_id", "case_events", ["case_id"])
    op.create_table(
        "home_visits",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("officer", sa.String(length=150), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_home_visits_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_home_visits")),
    )
    op.create_index("ix_home_visits_case_id", "home_visits", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_home_visits_case_id", table_name="home_visits")
    op.drop_table("home_visits")
    op.drop_index("ix_case_events_case_id", table_name="case_events")
    op.drop_table("case_events")
    op.drop_index("ix_case_documents_case_id_kind", table_name="case_documents")
    op.drop_table("case_documents")
    for name in (
        "ix_cases_locked_batch_id",
        "ix_cases_district_code_recorded_at",
        "ix_cases_house_id_fiscal_year",
        "ix_cases_national_id_recorded_at",
    ):
        op.drop_index(name, table_name="cases")
    op.drop_table("cases")
    op.drop_table("batch_locks")
    op.drop_table("households")
    op.drop_table("citizens")
    op.drop_table("case_counters")
    op.drop_table("programmes")
    with op.batch_alter_table("welfare_types", schema=None) as batch_op:
        batch_op.drop_column("updated_by")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("repeat_limit_source")
        batch_op.drop_column("repeat_limit")
