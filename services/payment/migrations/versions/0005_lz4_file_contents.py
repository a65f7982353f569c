"""lz4 TOAST compression for the stored payment files (PostgreSQL)

A 100,000-payee text file is ~50 MB of mostly spaces; PostgreSQL's default pglz compression of
it cost ~0.8 s of database CPU per file (tests/perf/bench_payment.py), lz4 a fraction of that
with a similar size.  Only the compression of newly written values changes; nothing is
rewritten.  SQLite has no TOAST: nothing to do there.  A server built without lz4 keeps pglz.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import logging

from alembic import op
from sqlalchemy.exc import DBAPIError

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")
COLUMNS = ("txt_content", "xlsx_content")


def _set_compression(method: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    alter = ", ".join(f"ALTER COLUMN {column} SET COMPRESSION {method}" for column in COLUMNS)
    try:
        with bind.begin_nested():
            bind.exec_driver_sql(f"ALTER TABLE payment_files {alter}")
    except DBAPIError as exc:  # e.g. "compression method lz4 not supported"
        log.warning("payment_files keeps its compression (%s): %s", method, exc.orig)


def upgrade() -> None:
    _set_compression("lz4")


def downgrade() -> None:
    _set_compression("pglz")
