"""Payment's own tables: payout batches and lines, KTB files, downloads, result imports, alerts.

Money is integer satang (``*_satang``, BigInteger): exact on PostgreSQL and SQLite alike.
"Paid at most once" is held by the database, not only by code:

* ``payout_lines.case_id`` is UNIQUE — a case is in at most one payout line, ever;
* ``paid_at`` is set exactly when the state is ``paid`` (CHECK), and the service only sets it
  with ``UPDATE … WHERE paid_at IS NULL``;
* ``file_lines`` has a partial UNIQUE index on ``line_id`` WHERE ``outcome = 'paid'`` — two
  file lines (two transfers) of one payee can never both be recorded as paid;
* ``file_lines.ref2`` is UNIQUE across every file ever made.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UTCDateTime, make_metadata, utcnow
from shared.money import from_satang

Id = BigInteger().with_variant(Integer(), "sqlite")  # autoincrementing on SQLite too
Satang = BigInteger

LINE_STATES = ("pending", "sent", "paid", "failed", "closed_failed", "review", "reversed")
FILE_LINE_OUTCOMES = ("pending", "paid", "failed", "review", "cancelled", "reversed")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    """Base of payment's tables."""

    metadata = make_metadata()


class PayoutBatch(Base):
    """One payout batch per approval batch (built from ``batch.approved``)."""

    __tablename__ = "payout_batches"
    __table_args__ = (
        CheckConstraint(_in("status", ("open", "settled")), name="status"),
        Index("ix_payout_batches_district_status", "district_code", "status"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    approval_batch_id: Mapped[str] = mapped_column(String(64), unique=True)
    district_code: Mapped[str] = mapped_column(String(4))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    meeting_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    approved_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    approved_by: Mapped[str] = mapped_column(String(150))
    status: Mapped[str] = mapped_column(String(10), default="open")
    line_count: Mapped[int] = mapped_column(Integer, default=0)
    total_satang: Mapped[int] = mapped_column(Satang, default=0)
    source_event_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    settled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    settled_by: Mapped[str | None] = mapped_column(String(150), nullable=True)

    @property
    def total_amount(self) -> Decimal:
        """The batch total in baht."""
        return from_satang(self.total_satang)


class PayoutLine(Base):
    """One payee (one case) of a payout batch, with the bank details it is paid to."""

    __tablename__ = "payout_lines"
    __table_args__ = (
        CheckConstraint(_in("state", LINE_STATES), name="state"),
        CheckConstraint("amount_satang > 0", name="amount_positive"),
        CheckConstraint("(state = 'paid') = (paid_at IS NOT NULL)", name="paid_marker"),
        CheckConstraint("(state = 'closed_failed') = (closed_at IS NOT NULL)", name="closed_marker"),
        Index("ix_payout_lines_batch_state", "batch_id", "state"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("payout_batches.id"))
    case_id: Mapped[str] = mapped_column(String(64), unique=True)
    case_no: Mapped[str] = mapped_column(String(40))
    district_code: Mapped[str] = mapped_column(String(4))
    payee_name: Mapped[str] = mapped_column(String(300))
    welfare_type_name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    account_name: Mapped[str] = mapped_column(String(100))
    bank_code: Mapped[str] = mapped_column(String(3))
    branch_code: Mapped[str | None] = mapped_column(String(4), nullable=True)
    account_no: Mapped[str] = mapped_column(String(20))
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    email: Mapped[str | None] = mapped_column(String(120), nullable=True)
    amount_satang: Mapped[int] = mapped_column(Satang)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    last_outcome: Mapped[str | None] = mapped_column(String(500), nullable=True)
    current_file_line_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    paid_ref2: Mapped[str | None] = mapped_column(String(18), nullable=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(150), nullable=True)
    close_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    bank_updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def amount(self) -> Decimal:
        """The line amount in baht."""
        return from_satang(self.amount_satang)

    @property
    def group(self) -> str:
        """``ktb`` for payees at Krungthai (Direct file), ``other`` for every other bank."""
        return "ktb" if self.bank_code == "006" else "other"


class PaymentFile(Base):
    """A KTB Corporate Online file made for one group of one batch (text and Excel of the same lines)."""

    __tablename__ = "payment_files"
    __table_args__ = (
        CheckConstraint(_in("bank_group", ("ktb", "other")), name="bank_group"),
        CheckConstraint(_in("status", ("active", "cancelled")), name="status"),
        Index("ix_payment_files_batch_group", "batch_id", "bank_group", "status"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("payout_batches.id"))
    bank_group: Mapped[str] = mapped_column(String(5))
    status: Mapped[str] = mapped_column(String(10), default="active")
    effective_date: Mapped[dt.date] = mapped_column(Date)
    service_type: Mapped[str] = mapped_column(String(2))
    company_id: Mapped[str] = mapped_column(String(16))
    debit_account: Mapped[str] = mapped_column(String(10))
    sender_name: Mapped[str] = mapped_column(String(100))
    placeholder_config: Mapped[bool] = mapped_column(Boolean, default=False)
    line_count: Mapped[int] = mapped_column(Integer)
    total_satang: Mapped[int] = mapped_column(Satang)
    txt_name: Mapped[str] = mapped_column(String(120))
    txt_content: Mapped[bytes] = mapped_column(LargeBinary)
    txt_sha256: Mapped[str] = mapped_column(String(64))
    xlsx_content: Mapped[bytes] = mapped_column(LargeBinary)
    xlsx_sha256: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(150))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancelled_by: Mapped[str | None] = mapped_column(String(150), nullable=True)
    cancel_reason: Mapped[str | None] = mapped_column(Text, nullable=True)

    @property
    def total_amount(self) -> Decimal:
        """The file total in baht."""
        return from_satang(self.total_satang)


class FileLine(Base):
    """One transfer: a payout line inside one file, with its ``ref2`` and the bank details sent."""

    __tablename__ = "file_lines"
    __table_args__ = (
        UniqueConstraint("file_id", "running_no"),
        CheckConstraint(_in("outcome", FILE_LINE_OUTCOMES), name="outcome"),
        Index(
            "uq_file_lines_paid_line",
            "line_id",
            unique=True,
            sqlite_where=text("outcome = 'paid'"),
            postgresql_where=text("outcome = 'paid'"),
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    # (file_id, running_no) is UNIQUE, so that index serves lookups by file too.
    file_id: Mapped[int] = mapped_column(ForeignKey("payment_files.id"))
    line_id: Mapped[int] = mapped_column(ForeignKey("payout_lines.id"), index=True)
    running_no: Mapped[int] = mapped_column(Integer)
    ref2: Mapped[str] = mapped_column(String(18), unique=True)
    amount_satang: Mapped[int] = mapped_column(Satang)
    bank_code: Mapped[str] = mapped_column(String(3))
    branch_code: Mapped[str | None] = mapped_column(String(4), nullable=True)
    account_no: Mapped[str] = mapped_column(String(20))
    recv_branch: Mapped[str] = mapped_column(String(4))
    recv_account: Mapped[str] = mapped_column(String(11))
    receiver_name: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(10), default="pending")
    outcome_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    outcome_import_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    raw_status: Mapped[str | None] = mapped_column(String(100), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # A paid transfer the bank reversed later (reliability P10): when, why, the bank's date and
    # the import that said so.  The outcome fields above keep the original success.
    reversed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reversal_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    reversal_value_date: Mapped[str | None] = mapped_column(String(40), nullable=True)
    reversal_import_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class FileDownload(Base):
    """Every download of a payment file: which file, which format, checksum, who and when."""

    __tablename__ = "file_downloads"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("payment_files.id"), index=True)
    format: Mapped[str] = mapped_column(String(4))
    sha256: Mapped[str] = mapped_column(String(64))
    line_count: Mapped[int] = mapped_column(Integer)
    total_satang: Mapped[int] = mapped_column(Satang)
    created_file: Mapped[bool] = mapped_column(Boolean, default=False)
    downloaded_by: Mapped[str] = mapped_column(String(150))
    role: Mapped[str] = mapped_column(String(32))
    ip: Mapped[str | None] = mapped_column(String(45), nullable=True)
    downloaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ResultImport(Base):
    """An uploaded bank result report and what its import did.

    ``dedupe_sha256`` / ``dedupe_content`` hold the hashes of an accepted original and are NULL
    for duplicates and rejected files, so the UNIQUE constraints make "the same file twice"
    impossible to import twice into one batch (reliability P5).
    """

    __tablename__ = "result_imports"
    __table_args__ = (
        UniqueConstraint("batch_id", "dedupe_sha256"),
        UniqueConstraint("batch_id", "dedupe_content"),
        CheckConstraint(_in("status", ("queued", "done", "rejected")), name="status"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("payout_batches.id"), index=True)
    district_code: Mapped[str] = mapped_column(String(4))
    job_id: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(10))
    size: Mapped[int] = mapped_column(Integer)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    dedupe_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    dedupe_content: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    shape: Mapped[str | None] = mapped_column(String(20), nullable=True)
    duplicate_of: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    unmatched: Mapped[list[Any]] = mapped_column(JSON, default=list)
    not_in_report: Mapped[list[Any]] = mapped_column(JSON, default=list)
    reconciliation: Mapped[list[Any]] = mapped_column(JSON, default=list)
    errors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str] = mapped_column(String(150))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ResultLine(Base):
    """One line of an imported report: what it said, what it matched and what was done with it."""

    __tablename__ = "result_lines"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("result_imports.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    file_line_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    ref2: Mapped[str | None] = mapped_column(String(64), nullable=True)
    running_no: Mapped[int | None] = mapped_column(Integer, nullable=True)
    bank_code: Mapped[str | None] = mapped_column(String(3), nullable=True)
    account_no: Mapped[str | None] = mapped_column(String(20), nullable=True)
    amount_satang: Mapped[int] = mapped_column(Satang)
    status: Mapped[str] = mapped_column(String(8))
    raw_status: Mapped[str | None] = mapped_column(String(100), nullable=True)
    reason_code: Mapped[str | None] = mapped_column(String(100), nullable=True)
    reason_text: Mapped[str | None] = mapped_column(String(500), nullable=True)
    value_date: Mapped[str | None] = mapped_column(String(40), nullable=True)
    bank_txn_ref: Mapped[str | None] = mapped_column(String(100), nullable=True)
    matched_by: Mapped[str | None] = mapped_column(String(20), nullable=True)
    outcome: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)


class PaymentAlert(Base):
    """Something finance must look at: a report contradicting a final outcome, a duplicate case."""

    __tablename__ = "payment_alerts"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("payout_batches.id"), index=True)
    district_code: Mapped[str] = mapped_column(String(4))
    line_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    import_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(150), nullable=True)
