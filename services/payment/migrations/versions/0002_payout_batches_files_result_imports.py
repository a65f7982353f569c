"""payout batches, files, result imports

Payment's tables (services/payment/models.py).  Works on SQLite and PostgreSQL: the partial
unique index ``uq_file_lines_paid_line`` (a payee's transfers can be recorded as paid once) is
supported by both.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payout_batches",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("approval_batch_id", sa.String(length=64), nullable=False),
        sa.Column("district_code", sa.String(length=4), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("meeting_date", sa.Date(), nullable=True),
        sa.Column("approved_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=150), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("total_satang", sa.BigInteger(), nullable=False),
        sa.Column("source_event_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("settled_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("settled_by", sa.String(length=150), nullable=True),
        sa.CheckConstraint("status IN ('open', 'settled')", name=op.f("ck_payout_batches_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_batches")),
        sa.UniqueConstraint("approval_batch_id", name=op.f("uq_payout_batches_approval_batch_id")),
    )
    with op.batch_alter_table("payout_batches", schema=None) as batch_op:
        batch_op.create_index("ix_payout_batches_district_status", ["district_code", "status"], unique=False)

    op.create_table(
        "payment_alerts",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("district_code", sa.String(length=4), nullable=False),
        sa.Column("line_id", sa.BigInteger(), nullable=True),
        sa.Column("import_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=150), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["payout_batches.id"], name=op.f("fk_payment_alerts_batch_id_payout_batches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_alerts")),
    )
    with op.batch_alter_table("payment_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_alerts_batch_id"), ["batch_id"], unique=False)

    op.create_table(
        "payment_files",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("bank_group", sa.String(length=5), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("service_type", sa.String(length=2), nullable=False),
        sa.Column("company_id", sa.String(length=16), nullable=False),
        sa.Column("debit_account", sa.String(length=10), nullable=False),
        sa.Column("sender_name", sa.String(length=100), nullable=False),
        sa.Column("placeholder_config", sa.Boolean(), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("total_satang", sa.BigInteger(), nullable=False),
        sa.Column("txt_name", sa.String(length=120), nullable=False),
        sa.Column("txt_content", sa.LargeBinary(), nullable=False),
        sa.Column("txt_sha256", sa.String(length=64), nullable=False),
        sa.Column("xlsx_content", sa.LargeBinary(), nullable=False),
        sa.Column("xlsx_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=150), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.String(length=150), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("bank_group IN ('ktb', 'other')", name=op.f("ck_payment_files_bank_group")),
        sa.CheckConstraint("status IN ('active', 'cancelled')", name=op.f("ck_payment_files_status")),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["payout_batches.id"], name=op.f("fk_payment_files_batch_id_payout_batches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_files")),
    )
    with op.batch_alter_table("payment_files", schema=None) as batch_op:
        batch_op.create_index(
            "ix_payment_files_batch_group", ["batch_id", "bank_group", "status"], unique=False
        )

    op.create_table(
        "payout_lines",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("case_no", sa.String(length=40), nullable=False),
        sa.Column("district_code", sa.String(length=4), nullable=False),
        sa.Column("payee_name", sa.String(length=300), nullable=False),
        sa.Column("welfare_type_name", sa.String(length=300), nullable=True),
        sa.Column("account_name", sa.String(length=100), nullable=False),
        sa.Column("bank_code", sa.String(length=3), nullable=False),
        sa.Column("branch_code", sa.String(length=4), nullable=True),
        sa.Column("account_no", sa.String(length=20), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("email", sa.String(length=120), nullable=True),
        sa.Column("amount_satang", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("last_outcome", sa.String(length=500), nullable=True),
        sa.Column("current_file_line_id", sa.BigInteger(), nullable=True),
        sa.Column("paid_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("paid_ref2", sa.String(length=18), nullable=True),
        sa.Column("closed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=150), nullable=True),
        sa.Column("close_reason", sa.Text(), nullable=True),
        sa.Column("bank_updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(state = 'closed_failed') = (closed_at IS NOT NULL)", name=op.f("ck_payout_lines_closed_marker")
        ),
        sa.CheckConstraint(
            "(state = 'paid') = (paid_at IS NOT NULL)", name=op.f("ck_payout_lines_paid_marker")
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'sent', 'paid', 'failed', 'closed_failed', 'review')",
            name=op.f("ck_payout_lines_state"),
        ),
        sa.CheckConstraint("amount_satang > 0", name=op.f("ck_payout_lines_amount_positive")),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["payout_batches.id"], name=op.f("fk_payout_lines_batch_id_payout_batches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_lines")),
        sa.UniqueConstraint("case_id", name=op.f("uq_payout_lines_case_id")),
    )
    with op.batch_alter_table("payout_lines", schema=None) as batch_op:
        batch_op.create_index("ix_payout_lines_batch_state", ["batch_id", "state"], unique=False)

    op.create_table(
        "result_imports",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("district_code", sa.String(length=4), nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("dedupe_sha256", sa.String(length=64), nullable=True),
        sa.Column("dedupe_content", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("shape", sa.String(length=20), nullable=True),
        sa.Column("duplicate_of", sa.BigInteger(), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("unmatched", sa.JSON(), nullable=False),
        sa.Column("not_in_report", sa.JSON(), nullable=False),
        sa.Column("reconciliation", sa.JSON(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=150), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('queued', 'done', 'rejected')", name=op.f("ck_result_imports_status")),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["payout_batches.id"], name=op.f("fk_result_imports_batch_id_payout_batches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_result_imports")),
        sa.UniqueConstraint(
            "batch_id", "dedupe_content", name=op.f("uq_result_imports_batch_id_dedupe_content")
        ),
        sa.UniqueConstraint(
            "batch_id", "dedupe_sha256", name=op.f("uq_result_imports_batch_id_dedupe_sha256")
        ),
    )
    with op.batch_alter_table("result_imports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_result_imports_batch_id"), ["batch_id"], unique=False)

    op.create_table(
        "file_downloads",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("file_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("format", sa.String(length=4), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("total_satang", sa.BigInteger(), nullable=False),
        sa.Column("created_file", sa.Boolean(), nullable=False),
        sa.Column("downloaded_by", sa.String(length=150), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("downloaded_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"], ["payment_files.id"], name=op.f("fk_file_downloads_file_id_payment_files")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_file_downloads")),
    )
    with op.batch_alter_table("file_downloads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_file_downloads_file_id"), ["file_id"], unique=False)

    op.create_table(
        "file_lines",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("file_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("line_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("running_no", sa.Integer(), nullable=False),
        sa.Column("ref2", sa.String(length=18), nullable=False),
        sa.Column("amount_satang", sa.BigInteger(), nullable=False),
        sa.Column("bank_code", sa.String(length=3), nullable=False),
        sa.Column("branch_code", sa.String(length=4), nullable=True),
        sa.Column("account_no", sa.String(length=20), nullable=False),
        sa.Column("recv_branch", sa.String(length=4), nullable=False),
        sa.Column("recv_account", sa.String(length=11), nullable=False),
        sa.Column("receiver_name", sa.String(length=100), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("outcome_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome_import_id", sa.BigInteger(), nullable=True),
        sa.Column("raw_status", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('pending', 'paid', 'failed', 'review', 'cancelled')",
            name=op.f("ck_file_lines_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["file_id"], ["payment_files.id"], name=op.f("fk_file_lines_file_id_payment_files")
        ),
        sa.ForeignKeyConstraint(
            ["line_id"], ["payout_lines.id"], name=op.f("fk_file_lines_line_id_payout_lines")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_file_lines")),
        sa.UniqueConstraint("file_id", "running_no", name=op.f("uq_file_lines_file_id_running_no")),
        sa.UniqueConstraint("ref2", name=op.f("uq_file_lines_ref2")),
    )
    with op.batch_alter_table("file_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_file_lines_line_id"), ["line_id"], unique=False)
        batch_op.create_index(
            "uq_file_lines_paid_line",
            ["line_id"],
            unique=True,
            sqlite_where=sa.text("outcome = 'paid'"),
            postgresql_where=sa.text("outcome = 'paid'"),
        )

    op.create_table(
        "result_lines",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("import_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("file_line_id", sa.BigInteger(), nullable=True),
        sa.Column("ref2", sa.String(length=64), nullable=True),
        sa.Column("running_no", sa.Integer(), nullable=True),
        sa.Column("bank_code", sa.String(length=3), nullable=True),
        sa.Column("account_no", sa.String(length=20), nullable=True),
        sa.Column("amount_satang", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("raw_status", sa.String(length=100), nullable=True),
        sa.Column("reason_code", sa.String(length=100), nullable=True),
        sa.Column("reason_text", sa.String(length=500), nullable=True),
        sa.Column("value_date", sa.String(length=40), nullable=True),
        sa.Column("bank_txn_ref", sa.String(length=100), nullable=True),
        sa.Column("matched_by", sa.String(length=20), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_id"], ["result_imports.id"], name=op.f("fk_result_lines_import_id_result_imports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_result_lines")),
    )
    with op.batch_alter_table("result_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_result_lines_import_id"), ["import_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("result_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_result_lines_import_id"))

    op.drop_table("result_lines")
    with op.batch_alter_table("file_lines", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_file_lines_paid_line",
            sqlite_where=sa.text("outcome = 'paid'"),
            postgresql_where=sa.text("outcome = 'paid'"),
        )
        batch_op.drop_index(batch_op.f("ix_file_lines_line_id"))

    op.drop_table("file_lines")
    with op.batch_alter_table("file_downloads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_file_downloads_file_id"))

    op.drop_table("file_downloads")
    with op.batch_alter_table("result_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_result_imports_batch_id"))

    op.drop_table("result_imports")
    with op.batch_alter_table("payout_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_payout_lines_batch_state")

    op.drop_table("payout_lines")
    with op.batch_alter_table("payment_files", schema=None) as batch_op:
        batch_op.drop_index("ix_payment_files_batch_group")

    op.drop_table("payment_files")
    with op.batch_alter_table("payment_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_alerts_batch_id"))

    op.drop_table("payment_alerts")
    with op.batch_alter_table("payout_batches", schema=None) as batch_op:
        batch_op.drop_index("ix_payout_batches_district_status")

    op.drop_table("payout_batches")
