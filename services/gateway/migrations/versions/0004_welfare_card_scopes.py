"""users: province and agency scopes of the welfare card measure's roles (docs/welfare_card.md)

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("province_code", sa.String(length=2), nullable=True))
        batch.add_column(sa.Column("agency", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("agency")
        batch.drop_column("province_code")
