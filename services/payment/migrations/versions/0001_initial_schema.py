"""initial schema

Revision ID: 0001
Revises:
"""

from __future__ import annotations


from shared import platform_migrations

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    platform_migrations.upgrade_0001()


def downgrade() -> None:
    platform_migrations.downgrade_0001()
