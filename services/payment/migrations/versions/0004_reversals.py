"""reversals (reliability.md P10): the ``reversed`` line state and transfer outcome

Adds ``reversed`` to the CHECK constraints of ``payout_lines.state`` and ``file_lines.outcome``
and four nullable columns to ``file_lines``.

SQLite cannot alter a CHECK constraint, and rebuilding ``payout_lines`` (the parent of
``file_lines``) would need ``PRAGMA foreign_keys=OFF``, which SQLite ignores inside the
migration's transaction.  Widening the allowed values cannot invalidate a stored row, so on
SQLite the constraint's text is edited in ``sqlite_schema`` — the procedure SQLite documents for
changes that do not touch the stored data (https://www.sqlite.org/lang_altertable.html §7).
The downgrade narrows them again and refuses while any row uses ``reversed``.

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

OLD_STATES = "state IN ('pending', 'sent', 'paid', 'failed', 'closed_failed', 'review')"
NEW_STATES = "state IN ('pending', 'sent', 'paid', 'failed', 'closed_failed', 'review', 'reversed')"
OLD_OUTCOMES = "outcome IN ('pending', 'paid', 'failed', 'review', 'cancelled')"
NEW_OUTCOMES = "outcome IN ('pending', 'paid', 'failed', 'review', 'cancelled', 'reversed')"


def _replace_check(table: str, name: str, old: str, new: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.drop_constraint(name, table, type_="check")
        op.create_check_constraint(name, table, new)
        return
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar_one()
    before, after = f"CONSTRAINT {name} CHECK ({old})", f"CONSTRAINT {name} CHECK ({new})"
    if sql.count(before) != 1:
        raise RuntimeError(f"{table}: constraint {name} is not {old!r}; refusing to edit the schema")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
        (sql.replace(before, after), table),
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    check = bind.exec_driver_sql("PRAGMA integrity_check").scalar_one()
    if check != "ok":
        raise RuntimeError(f"integrity check after editing {table}: {check}")


def upgrade() -> None:
    _replace_check("payout_lines", "ck_payout_lines_state", OLD_STATES, NEW_STATES)
    _replace_check("file_lines", "ck_file_lines_outcome", OLD_OUTCOMES, NEW_OUTCOMES)
    # ADD COLUMN is native on both backends (no table rebuild on SQLite).
    op.add_column("file_lines", sa.Column("reversed_at", UTCDateTime(timezone=True), nullable=True))
    op.add_column("file_lines", sa.Column("reversal_reason", sa.String(length=500), nullable=True))
    op.add_column("file_lines", sa.Column("reversal_value_date", sa.String(length=40), nullable=True))
    op.add_column("file_lines", sa.Column("reversal_import_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    bind = op.get_bind()
    used = bind.exec_driver_sql(
        "SELECT (SELECT count(*) FROM payout_lines WHERE state = 'reversed')"
        " + (SELECT count(*) FROM file_lines WHERE outcome = 'reversed')"
    ).scalar_one()
    if used:
        raise RuntimeError("reversed payees or transfers exist: resolve them before downgrading")
    if bind.dialect.name == "sqlite":
        for column in ("reversal_import_id", "reversal_value_date", "reversal_reason", "reversed_at"):
            bind.exec_driver_sql(f"ALTER TABLE file_lines DROP COLUMN {column}")
    else:
        for column in ("reversal_import_id", "reversal_value_date", "reversal_reason", "reversed_at"):
            op.drop_column("file_lines", column)
    _replace_check("file_lines", "ck_file_lines_outcome", NEW_OUTCOMES, OLD_OUTCOMES)
    _replace_check("payout_lines", "ck_payout_lines_state", NEW_STATES, OLD_STATES)
