"""initial schema

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from shared import platform_migrations

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    platform_migrations.upgrade_0001()
    op.create_table(
        "banks",
        sa.Column("code", sa.String(length=3), nullable=False),
        sa.Column("short_name", sa.String(length=20), nullable=False),
        sa.Column("name_th", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("branch_code_required", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_banks")),
    )
    op.create_table(
        "districts",
        sa.Column("code", sa.String(length=4), nullable=False),
        sa.Column("name_th", sa.String(length=80), nullable=False),
        sa.Column("name_en", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_districts")),
    )
    op.create_table(
        "welfare_types",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_th", sa.String(length=200), nullable=False),
        sa.Column("regulation_ref", sa.String(length=120), nullable=True),
        sa.Column("ceiling", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("ceiling_scope", sa.String(length=30), nullable=False),
        sa.Column("ceiling_source", sa.String(length=20), nullable=False),
        sa.Column("required_documents", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_welfare_types")),
    )


def downgrade() -> None:
    op.drop_table("welfare_types")
    op.drop_table("districts")
    op.drop_table("banks")
    platform_migrations.downgrade_0001()
