"""agenda, meetings, approval batches

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
        "meetings",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("district_code", sa.String(length=4), nullable=False),
        sa.Column("meeting_date", sa.Date(), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("attendees", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings")),
    )
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.create_index("ix_meetings_district_date", ["district_code", "meeting_date"], unique=False)

    op.create_table(
        "batches",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("district_code", sa.String(length=4), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("meeting_date", sa.Date(), nullable=False),
        sa.Column("meeting_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("total_amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("approved_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("failed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("failure", sa.JSON(), nullable=True),
        sa.Column("settled_at", UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('locking', 'approved', 'failed', 'settled')", name=op.f("ck_batches_status_known")
        ),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], name=op.f("fk_batches_meeting_id_meetings")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batches")),
        sa.UniqueConstraint(
            "district_code", "fiscal_year", "number", name=op.f("uq_batches_district_code_fiscal_year_number")
        ),
    )
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.create_index("ix_batches_district_fy", ["district_code", "fiscal_year"], unique=False)
        batch_op.create_index(
            "uq_batches_one_locking_per_district",
            ["district_code"],
            unique=True,
            postgresql_where=sa.text("status = 'locking'"),
            sqlite_where=sa.text("status = 'locking'"),
        )

    op.create_table(
        "agenda_items",
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("district_code", sa.String(length=4), nullable=False),
        sa.Column("case_no", sa.String(length=40), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=60), nullable=False),
        sa.Column("first_name", sa.String(length=120), nullable=False),
        sa.Column("last_name", sa.String(length=120), nullable=False),
        sa.Column("case_type", sa.String(length=20), nullable=False),
        sa.Column("welfare_type_code", sa.String(length=40), nullable=False),
        sa.Column("welfare_type_name", sa.String(length=200), nullable=False),
        sa.Column("regulation_ref", sa.String(length=120), nullable=True),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("disqualify_reason", sa.Text(), nullable=True),
        sa.Column("batch_id", sa.String(length=36), nullable=True),
        sa.Column("registered_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("snapshot_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("amended_by", sa.String(length=80), nullable=True),
        sa.Column("amended_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.Column("decided_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('on_agenda', 'deferred', 'disqualified', 'in_batch')",
            name=op.f("ck_agenda_items_status_known"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_agenda_items_amount_positive")),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name=op.f("fk_agenda_items_batch_id_batches")),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_agenda_items")),
    )
    with op.batch_alter_table("agenda_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agenda_items_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index("ix_agenda_items_district_status", ["district_code", "status"], unique=False)

    op.create_table(
        "batch_items",
        sa.Column("batch_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("case_no", sa.String(length=40), nullable=False),
        sa.Column("welfare_type_code", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name=op.f("fk_batch_items_batch_id_batches")),
        sa.PrimaryKeyConstraint("batch_id", "case_id", name=op.f("pk_batch_items")),
        sa.UniqueConstraint("case_id", name=op.f("uq_batch_items_case_id")),
    )


def downgrade() -> None:
    op.drop_table("batch_items")
    with op.batch_alter_table("agenda_items", schema=None) as batch_op:
        batch_op.drop_index("ix_agenda_items_district_status")
        batch_op.drop_index(batch_op.f("ix_agenda_items_batch_id"))

    op.drop_table("agenda_items")
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_batches_one_locking_per_district",
            postgresql_where=sa.text("status = 'locking'"),
            sqlite_where=sa.text("status = 'locking'"),
        )
        batch_op.drop_index("ix_batches_district_fy")

    op.drop_table("batches")
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_index("ix_meetings_district_date")

    op.drop_table("meetings")
