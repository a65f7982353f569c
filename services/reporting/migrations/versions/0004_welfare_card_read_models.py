"""welfare card measure: read models (participants, developments, follow-ups, intents, deadlines, daily counts)

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rpt_wc_daily",
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("area_code", sa.String(length=4), nullable=False),
        sa.Column("agency", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "province_code", "area_code", "agency", "kind", "day", name=op.f("pk_rpt_wc_daily")
        ),
    )
    op.create_table(
        "rpt_wc_deadlines",
        sa.Column("phase", sa.String(length=40), nullable=False),
        sa.Column("record_by", sa.Date(), nullable=True),
        sa.Column("seen_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("phase", name=op.f("pk_rpt_wc_deadlines")),
    )
    op.create_table(
        "rpt_wc_developed_totals",
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("area_code", sa.String(length=4), nullable=False),
        sa.Column("agency", sa.String(length=32), nullable=False),
        sa.Column("group_code", sa.String(length=32), nullable=False),
        sa.Column("recorded", sa.Integer(), nullable=False),
        sa.Column("developed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "province_code", "area_code", "agency", "group_code", name=op.f("pk_rpt_wc_developed_totals")
        ),
    )
    op.create_table(
        "rpt_wc_development_totals",
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("area_code", sa.String(length=4), nullable=False),
        sa.Column("agency", sa.String(length=32), nullable=False),
        sa.Column("group_code", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("result", sa.String(length=32), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("late_records", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "province_code",
            "area_code",
            "agency",
            "group_code",
            "project_id",
            "result",
            name=op.f("pk_rpt_wc_development_totals"),
        ),
    )
    op.create_table(
        "rpt_wc_developments",
        sa.Column("development_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.String(length=64), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("area_code", sa.String(length=4), nullable=False),
        sa.Column("agency", sa.String(length=32), nullable=False),
        sa.Column("group_code", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("result", sa.String(length=32), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("first_recorded_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("development_id", name=op.f("pk_rpt_wc_developments")),
    )
    with op.batch_alter_table("rpt_wc_developments", schema=None) as batch_op:
        batch_op.create_index("ix_rpt_wc_developments_participant", ["participant_id"], unique=False)

    op.create_table(
        "rpt_wc_follow_up_totals",
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("area_code", sa.String(length=4), nullable=False),
        sa.Column("agency", sa.String(length=32), nullable=False),
        sa.Column("group_code", sa.String(length=32), nullable=False),
        sa.Column("round", sa.String(length=7), nullable=False),
        sa.Column("progress", sa.String(length=32), nullable=False),
        sa.Column("participants", sa.Integer(), nullable=False),
        sa.Column("late", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "province_code",
            "area_code",
            "agency",
            "group_code",
            "round",
            "progress",
            name=op.f("pk_rpt_wc_follow_up_totals"),
        ),
    )
    op.create_table(
        "rpt_wc_follow_ups",
        sa.Column("follow_up_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("round", sa.String(length=7), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("area_code", sa.String(length=4), nullable=False),
        sa.Column("agency", sa.String(length=32), nullable=False),
        sa.Column("group_code", sa.String(length=32), nullable=False),
        sa.Column("progress", sa.String(length=32), nullable=False),
        sa.Column("recorded_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("first_recorded_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("follow_up_id", name=op.f("pk_rpt_wc_follow_ups")),
    )
    op.create_table(
        "rpt_wc_imports",
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("applied_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("applied_on", sa.Date(), nullable=False),
        sa.Column("applied_by", sa.String(length=150), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=True),
        sa.Column("agency", sa.String(length=32), nullable=True),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("development_record_by", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("import_id", name=op.f("pk_rpt_wc_imports")),
    )
    op.create_table(
        "rpt_wc_intents",
        sa.Column("intent_id", sa.Integer(), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("area_code", sa.String(length=4), nullable=False),
        sa.Column("agency", sa.String(length=32), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=True),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("registered_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("intent_id", name=op.f("pk_rpt_wc_intents")),
    )
    with op.batch_alter_table("rpt_wc_intents", schema=None) as batch_op:
        batch_op.create_index("ix_rpt_wc_intents_area", ["province_code", "area_code"], unique=False)

    op.create_table(
        "rpt_wc_participant_progress",
        sa.Column("participant_id", sa.String(length=64), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("area_code", sa.String(length=4), nullable=False),
        sa.Column("agency", sa.String(length=32), nullable=False),
        sa.Column("group_code", sa.String(length=32), nullable=False),
        sa.Column("ref_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("completed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("participant_id", name=op.f("pk_rpt_wc_participant_progress")),
    )
    op.create_table(
        "rpt_wc_participant_totals",
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("area_code", sa.String(length=4), nullable=False),
        sa.Column("agency", sa.String(length=32), nullable=False),
        sa.Column("group_code", sa.String(length=32), nullable=False),
        sa.Column("participants", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "province_code", "area_code", "agency", "group_code", name=op.f("pk_rpt_wc_participant_totals")
        ),
    )
    op.create_table(
        "rpt_wc_projects",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("agency", sa.String(length=32), nullable=True),
        sa.Column("province_code", sa.String(length=2), nullable=True),
        sa.Column("seen_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_rpt_wc_projects")),
    )


def downgrade() -> None:
    op.drop_table("rpt_wc_projects")
    op.drop_table("rpt_wc_participant_totals")
    op.drop_table("rpt_wc_participant_progress")
    with op.batch_alter_table("rpt_wc_intents", schema=None) as batch_op:
        batch_op.drop_index("ix_rpt_wc_intents_area")

    op.drop_table("rpt_wc_intents")
    op.drop_table("rpt_wc_imports")
    op.drop_table("rpt_wc_follow_ups")
    op.drop_table("rpt_wc_follow_up_totals")
    with op.batch_alter_table("rpt_wc_developments", schema=None) as batch_op:
        batch_op.drop_index("ix_rpt_wc_developments_participant")

    op.drop_table("rpt_wc_developments")
    op.drop_table("rpt_wc_development_totals")
    op.drop_table("rpt_wc_developed_totals")
    op.drop_table("rpt_wc_deadlines")
    op.drop_table("rpt_wc_daily")
