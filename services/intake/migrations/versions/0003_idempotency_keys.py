"""idempotency keys (reliability.md P2, shared/idempotency.py)

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from shared import platform_migrations

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    platform_migrations.upgrade_idempotency_keys()


def downgrade() -> None:
    platform_migrations.downgrade_idempotency_keys()
