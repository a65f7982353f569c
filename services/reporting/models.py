"""Reporting's own tables: read models built from events, plus what the central office enters.

Every ``rpt_*`` table below except ``rpt_budgets`` and ``rpt_templates`` is derived from events
only and can be rebuilt from a replay of them (``services.rebuild``).  Budgets and document
templates are entered through reporting's own API and are kept by a rebuild.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UTCDateTime, make_metadata, utcnow

Money = Numeric(14, 2)
MoneyTotal = Numeric(18, 2)


class Base(DeclarativeBase):
    """Base of reporting's tables."""

    metadata = make_metadata()


class RptCase(Base):
    """One case as reporting knows it, folded from every event that names it.

    ``*_at`` guard columns hold the ``occurred_at`` of the event that last set a group of
    columns, so that a late or redelivered older event never overwrites newer facts.
    """

    __tablename__ = "rpt_cases"
    __table_args__ = (
        Index("ix_rpt_cases_district_status", "district_code", "status"),
        Index("ix_rpt_cases_batch_id", "batch_id"),
        Index("ix_rpt_cases_fy_district_day", "fiscal_year", "district_code", "registered_on"),
    )

    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    district_code: Mapped[str] = mapped_column(String(4))
    # The snapshot (case.registered / case.updated / batch.approved); null until one arrives.
    case_no: Mapped[str | None] = mapped_column(String(40), nullable=True)
    fiscal_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    title: Mapped[str | None] = mapped_column(String(60), nullable=True)
    first_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    last_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    case_type: Mapped[str | None] = mapped_column(String(16), nullable=True)
    welfare_type_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    welfare_type_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    regulation_ref: Mapped[str | None] = mapped_column(String(200), nullable=True)
    amount_requested: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    amount_current: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    registered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    registered_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)  # Bangkok date
    registered_month: Mapped[str | None] = mapped_column(String(7), nullable=True)  # "2022-10"
    data_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # welfare type and amount_current: the latest of the snapshots and the committee's amendments
    current_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # amount_requested: the officer's amount from before any committee decision (null guard:
    # only a batch snapshot has been seen, a registration or edit may still replace it)
    requested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # the first decision of the committee on the amount (an amendment or the approval)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Where the case is in its life.
    status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    status_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    disqualify_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    batch_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    amount_approved: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    # Payment: null (not yet), "failed" (a transfer failed, to be sent again), "paid", "reversed"
    # (the bank reversed the paid transfer: to be corrected and sent again), "closed_failed".
    # ``failure_reason`` is the failure's or the reversal's reason.
    pay_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    pay_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    paid_amount: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    failure_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Where the payee is paid (only what the bank forms print); full numbers never leave the forms.
    bank_code: Mapped[str | None] = mapped_column(String(3), nullable=True)
    branch_code: Mapped[str | None] = mapped_column(String(4), nullable=True)
    account_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    account_no: Mapped[str | None] = mapped_column(String(15), nullable=True)
    bank_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RptBatch(Base):
    """An approval batch (รายการอนุมัติ) and how its payment ended."""

    __tablename__ = "rpt_batches"
    __table_args__ = (Index("ix_rpt_batches_district_fy", "district_code", "fiscal_year"),)

    batch_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    district_code: Mapped[str] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(16))  # failed | approved | settled
    fiscal_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    title: Mapped[str | None] = mapped_column(String(300), nullable=True)
    meeting_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    approved_by: Mapped[str | None] = mapped_column(String(150), nullable=True)
    total_amount: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    case_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    failure_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    payout_batch_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    settled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    settled_by: Mapped[str | None] = mapped_column(String(150), nullable=True)
    paid_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    paid_total: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    closed_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RptBatchPayee(Base):
    """A case of an approval batch as it was locked (the lines of the report and the bank forms)."""

    __tablename__ = "rpt_batch_payees"

    batch_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    case_no: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(60))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    welfare_type_code: Mapped[str] = mapped_column(String(40))
    welfare_type_name: Mapped[str] = mapped_column(String(200))
    regulation_ref: Mapped[str | None] = mapped_column(String(200), nullable=True)
    amount: Mapped[Decimal] = mapped_column(Money)


class RptWelfareType(Base):
    """A welfare type's name and regulation reference, as last seen in a case snapshot."""

    __tablename__ = "rpt_welfare_types"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_th: Mapped[str] = mapped_column(String(200))
    regulation_ref: Mapped[str | None] = mapped_column(String(200), nullable=True)
    seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class RptSummaryTotal(Base):
    """Cases and amounts of one (fiscal year, district) by one dimension: status, welfare type or month.

    Every consumer that changes a case moves the case's contribution from its old rows to its
    new ones (one row per dimension), so a summary over a million cases reads a few thousand
    rows.  Amounts are integer satang: exact on PostgreSQL and SQLite alike (SQLite keeps
    NUMERIC as REAL).  ``failed`` is ``payment_failed``: closed as not paid.
    """

    __tablename__ = "rpt_summary_totals"

    fiscal_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(4), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)  # status | welfare_type | month
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_count: Mapped[int] = mapped_column(Integer, default=0)
    requested_satang: Mapped[int] = mapped_column(BigInteger, default=0)
    approved_count: Mapped[int] = mapped_column(Integer, default=0)
    approved_satang: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_count: Mapped[int] = mapped_column(Integer, default=0)
    paid_satang: Mapped[int] = mapped_column(BigInteger, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_satang: Mapped[int] = mapped_column(BigInteger, default=0)


class RptDailyIntake(Base):
    """Cases registered per Bangkok calendar day and district, kept by the consumers."""

    __tablename__ = "rpt_daily_intake"

    fiscal_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(4), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    case_count: Mapped[int] = mapped_column(Integer, default=0)


class RptBudget(Base):
    """A district's budget allocation for a fiscal year, entered by the central office."""

    __tablename__ = "rpt_budgets"

    fiscal_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(4), primary_key=True)
    amount: Mapped[Decimal] = mapped_column(MoneyTotal)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(150))


class RptTemplate(Base):
    """A district's adjustments to one document's layout text (merged over the default)."""

    __tablename__ = "rpt_templates"

    district_code: Mapped[str] = mapped_column(String(4), primary_key=True)
    doc: Mapped[str] = mapped_column(String(32), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(150))


#: The tables a rebuild empties and refills from events.
EVENT_TABLES = (RptCase, RptBatch, RptBatchPayee, RptWelfareType, RptSummaryTotal, RptDailyIntake)
