"""Approval's own tables: the agenda, committee meetings and approval batches."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UTCDateTime, make_metadata, utcnow

MONEY = Numeric(14, 2)


class Base(DeclarativeBase):
    """Base of approval's tables."""

    metadata = make_metadata()


class AgendaItem(Base):
    """A registered case as the district committee sees it, from ``case.registered`` on.

    ``status`` is the committee's view: ``on_agenda`` (waits for the next meeting; while a
    batch of the district is being locked, its items keep ``on_agenda`` with ``batch_id`` set),
    ``deferred`` (taken off the agenda for now), ``disqualified`` (final) or ``in_batch``
    (approved in batch ``batch_id``, final).
    """

    __tablename__ = "agenda_items"
    __table_args__ = (
        Index("ix_agenda_items_district_status", "district_code", "status"),
        CheckConstraint(
            "status IN ('on_agenda', 'deferred', 'disqualified', 'in_batch')", name="status_known"
        ),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    district_code: Mapped[str] = mapped_column(String(4))
    case_no: Mapped[str] = mapped_column(String(40))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(60))
    first_name: Mapped[str] = mapped_column(String(120))
    last_name: Mapped[str] = mapped_column(String(120))
    case_type: Mapped[str] = mapped_column(String(20))
    welfare_type_code: Mapped[str] = mapped_column(String(40))
    welfare_type_name: Mapped[str] = mapped_column(String(200))
    regulation_ref: Mapped[str | None] = mapped_column(String(120), nullable=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    status: Mapped[str] = mapped_column(String(20), default="on_agenda")
    disqualify_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    batch_id: Mapped[str | None] = mapped_column(ForeignKey("batches.id"), nullable=True, index=True)
    registered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # When the snapshot fields were last set (event time or committee decision): an older
    # case.updated delivered late never overwrites newer values.
    snapshot_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    amended_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    amended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)


class Meeting(Base):
    """A meeting of the district committee (1st and 3rd week of a month; any date is accepted)."""

    __tablename__ = "meetings"
    __table_args__ = (Index("ix_meetings_district_date", "district_code", "meeting_date"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    district_code: Mapped[str] = mapped_column(String(4))
    meeting_date: Mapped[dt.date] = mapped_column(Date)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(40))
    attendees: Mapped[list[str]] = mapped_column(JSON)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Batch(Base):
    """An approval batch: the agenda closed by a head, locked in intake, then approved.

    ``number`` and ``title`` are given at approval, so a failed batch leaves no gap in the
    district's numbering (ครั้งที่ N of the fiscal year).  At most one batch of a district is
    ``locking`` at a time: a partial unique index is the guard two heads race against.
    """

    __tablename__ = "batches"
    __table_args__ = (
        UniqueConstraint("district_code", "fiscal_year", "number"),
        Index(
            "uq_batches_one_locking_per_district",
            "district_code",
            unique=True,
            postgresql_where=text("status = 'locking'"),
            sqlite_where=text("status = 'locking'"),
        ),
        Index("ix_batches_district_fy", "district_code", "fiscal_year"),
        CheckConstraint("status IN ('locking', 'approved', 'failed', 'settled')", name="status_known"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    district_code: Mapped[str] = mapped_column(String(4))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    title: Mapped[str | None] = mapped_column(String(200), nullable=True)
    meeting_date: Mapped[dt.date] = mapped_column(Date)
    meeting_id: Mapped[str | None] = mapped_column(ForeignKey("meetings.id"), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="locking")
    count: Mapped[int] = mapped_column(Integer)
    total_amount: Mapped[Decimal] = mapped_column(MONEY)
    job_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    failed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    failure: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    settled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class BatchItem(Base):
    """A case of a batch that is locking or approved.

    ``case_id`` is unique over the whole table: a case is in at most one batch, ever.  The rows
    of a batch that fails are deleted in the transaction that marks it failed, so its cases can
    go into a later batch.
    """

    __tablename__ = "batch_items"

    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id"), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    case_no: Mapped[str] = mapped_column(String(40))
    welfare_type_code: Mapped[str] = mapped_column(String(40))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    # The final snapshot intake sent with cases.locked (None while locking).
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    __table_args__ = (UniqueConstraint("case_id"),)
