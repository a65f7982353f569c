"""users.token_generation: bearer tokens of a disabled, reset or re-scoped user stop working

Every existing user starts at 0, which is also how the gateway reads a token issued before this
column (without a ``gen`` claim): such tokens keep working until the user's first revoking change.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("token_generation", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("token_generation")
