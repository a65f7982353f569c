"""the state welfare card measure: areas, participants, imports, projects, developments, follow-ups,
registration places and intents (docs/welfare_card.md)

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime
from shared.models import BigId

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wc_imports",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("agency", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("rejected_count", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.JSON(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=150), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wc_imports")),
    )
    op.create_index(
        "ix_wc_imports_province_code_agency", "wc_imports", ["province_code", "agency"], unique=False
    )
    op.create_table(
        "wc_participants",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("national_id", sa.String(length=13), nullable=False),
        sa.Column("title", sa.String(length=40), nullable=True),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("area_code", sa.String(length=4), nullable=False),
        sa.Column("agency", sa.String(length=10), nullable=False),
        sa.Column("grp", sa.String(length=20), nullable=False),
        sa.Column("import_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wc_participants")),
        sa.UniqueConstraint("national_id", name=op.f("uq_wc_participants_national_id")),
    )
    op.create_index(
        "ix_wc_participants_scope",
        "wc_participants",
        ["province_code", "area_code", "agency", "grp"],
        unique=False,
    )
    op.create_table(
        "wc_projects",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("agency", sa.String(length=10), nullable=True),
        sa.Column("province_code", sa.String(length=2), nullable=True),
        sa.Column("name_th", sa.String(length=300), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=150), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wc_projects")),
        sa.UniqueConstraint(
            "kind",
            "agency",
            "province_code",
            "name_th",
            name=op.f("uq_wc_projects_kind_agency_province_code_name_th"),
        ),
    )
    op.create_table(
        "wc_provinces",
        sa.Column("code", sa.String(length=2), nullable=False),
        sa.Column("name_th", sa.String(length=80), nullable=False),
        sa.Column("name_en", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_wc_provinces")),
    )
    op.create_table(
        "wc_areas",
        sa.Column("code", sa.String(length=4), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("name_th", sa.String(length=80), nullable=False),
        sa.Column("name_en", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["province_code"], ["wc_provinces.code"], name=op.f("fk_wc_areas_province_code_wc_provinces")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_wc_areas")),
    )
    op.create_index("ix_wc_areas_province_code", "wc_areas", ["province_code"], unique=False)
    op.create_table(
        "wc_developments",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("participant_id", BigId, nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("result", sa.String(length=20), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("recorded_by", sa.String(length=150), nullable=False),
        sa.Column("recorded_by_role", sa.String(length=30), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["wc_participants.id"],
            name=op.f("fk_wc_developments_participant_id_wc_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["wc_projects.id"], name=op.f("fk_wc_developments_project_id_wc_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wc_developments")),
        sa.UniqueConstraint(
            "participant_id", "project_id", name=op.f("uq_wc_developments_participant_id_project_id")
        ),
    )
    op.create_table(
        "wc_follow_ups",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("participant_id", BigId, nullable=False),
        sa.Column("round", sa.String(length=7), nullable=False),
        sa.Column("progress", sa.String(length=30), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("recorded_by", sa.String(length=150), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["wc_participants.id"],
            name=op.f("fk_wc_follow_ups_participant_id_wc_participants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wc_follow_ups")),
        sa.UniqueConstraint("participant_id", "round", name=op.f("uq_wc_follow_ups_participant_id_round")),
    )
    op.create_table(
        "wc_import_files",
        sa.Column("import_id", BigId, autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"], ["wc_imports.id"], name=op.f("fk_wc_import_files_import_id_wc_imports")
        ),
        sa.PrimaryKeyConstraint("import_id", name=op.f("pk_wc_import_files")),
    )
    op.create_table(
        "wc_registration_places",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("area_code", sa.String(length=4), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=150), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_code"], ["wc_areas.code"], name=op.f("fk_wc_registration_places_area_code_wc_areas")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wc_registration_places")),
    )
    op.create_index(
        "ix_wc_registration_places_area_code", "wc_registration_places", ["area_code"], unique=False
    )
    op.create_table(
        "wc_intents",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("national_id", sa.String(length=13), nullable=False),
        sa.Column("title", sa.String(length=40), nullable=True),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("area_code", sa.String(length=4), nullable=False),
        sa.Column("agency", sa.String(length=10), nullable=True),
        sa.Column("place_id", sa.Integer(), nullable=True),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(length=150), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_code"], ["wc_areas.code"], name=op.f("fk_wc_intents_area_code_wc_areas")
        ),
        sa.ForeignKeyConstraint(
            ["place_id"],
            ["wc_registration_places.id"],
            name=op.f("fk_wc_intents_place_id_wc_registration_places"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wc_intents")),
        sa.UniqueConstraint("national_id", name=op.f("uq_wc_intents_national_id")),
    )
    op.create_index(
        "ix_wc_intents_area_code_registered_on", "wc_intents", ["area_code", "registered_on"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_wc_intents_area_code_registered_on", table_name="wc_intents")
    op.drop_table("wc_intents")
    op.drop_index("ix_wc_registration_places_area_code", table_name="wc_registration_places")
    op.drop_table("wc_registration_places")
    op.drop_table("wc_import_files")
    op.drop_table("wc_follow_ups")
    op.drop_table("wc_developments")
    op.drop_index("ix_wc_areas_province_code", table_name="wc_areas")
    op.drop_table("wc_areas")
    op.drop_table("wc_provinces")
    op.drop_table("wc_projects")
    op.drop_index("ix_wc_participants_scope", table_name="wc_participants")
    op.drop_table("wc_participants")
    op.drop_index("ix_wc_imports_province_code_agency", table_name="wc_imports")
    op.drop_table("wc_imports")
