"""outbox acknowledgements (reliability.md R1, R6, R10; shared/outbox.py)

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from shared import platform_migrations

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    platform_migrations.upgrade_outbox_acks()


def downgrade() -> None:
    platform_migrations.downgrade_outbox_acks()
