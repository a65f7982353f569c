"""Intake's own tables."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UTCDateTime, make_metadata, utcnow
from shared.models import BigId


class Base(DeclarativeBase):
    """Base of intake's tables."""

    metadata = make_metadata()


class District(Base):
    """One of Bangkok's 50 districts (reference data)."""

    __tablename__ = "districts"

    code: Mapped[str] = mapped_column(String(4), primary_key=True)
    name_th: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))


class Bank(Base):
    """A Thai bank with its 3-digit clearing code (KTB spec §6)."""

    __tablename__ = "banks"

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    short_name: Mapped[str] = mapped_column(String(20))
    name_th: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean)
    branch_code_required: Mapped[bool] = mapped_column(Boolean, default=False)


class WelfareType(Base):
    """A kind of assistance of the welfare catalogue, managed by the central office."""

    __tablename__ = "welfare_types"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_th: Mapped[str] = mapped_column(String(200))
    regulation_ref: Mapped[str | None] = mapped_column(String(120), nullable=True)
    ceiling: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), nullable=True)
    ceiling_scope: Mapped[str] = mapped_column(String(30), default="per_case")
    ceiling_source: Mapped[str] = mapped_column(String(20), default="configured")  # seeds | configured
    #: Most cases one person may have of this type in one fiscal year (None: no limit).
    repeat_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    repeat_limit_source: Mapped[str] = mapped_column(String(20), default="configured")
    required_documents: Mapped[str] = mapped_column(Text, default="related,financial")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_by: Mapped[str | None] = mapped_column(String(150), nullable=True)


class Programme(Base):
    """A programme adding eligibility rules on top of a welfare type (e.g. the COVID-19 career fund)."""

    __tablename__ = "programmes"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_th: Mapped[str] = mapped_column(String(300))
    welfare_type_code: Mapped[str] = mapped_column(ForeignKey("welfare_types.code"))
    reference: Mapped[str | None] = mapped_column(String(300), nullable=True)
    #: The rule: refuse anyone granted ``excluded_welfare_type_code`` in ``excluded_fiscal_year``.
    rule_code: Mapped[str] = mapped_column(String(80))
    excluded_welfare_type_code: Mapped[str] = mapped_column(ForeignKey("welfare_types.code"))
    excluded_fiscal_year: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(20), default="configured")  # seeds | configured
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_by: Mapped[str | None] = mapped_column(String(150), nullable=True)


class CaseCounter(Base):
    """The last case number given in a fiscal year (locked by each recording: no gaps)."""

    __tablename__ = "case_counters"

    fiscal_year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_no: Mapped[int] = mapped_column(Integer)


class Citizen(Base):
    """A person known to intake, keyed by national ID (only intake stores it in full)."""

    __tablename__ = "citizens"

    national_id: Mapped[str] = mapped_column(String(13), primary_key=True)
    #: A surrogate key that names the person in the audit log without the national ID.
    id: Mapped[str] = mapped_column(String(36), unique=True)
    title: Mapped[str] = mapped_column(String(40))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Household(Base):
    """A house registration number; its row is locked while a per-family ceiling is checked."""

    __tablename__ = "households"

    house_id: Mapped[str] = mapped_column(String(11), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Case(Base):
    """One request for assistance recorded by a district (บันทึกข้อมูลเคส)."""

    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("fiscal_year", "running_no"),
        # The history look-up and the per-person ceilings.
        Index("ix_cases_national_id_recorded_at", "national_id", "recorded_at"),
        Index("ix_cases_house_id_fiscal_year", "house_id", "fiscal_year"),
        Index("ix_cases_district_code_recorded_at", "district_code", "recorded_at"),
        Index("ix_cases_locked_batch_id", "locked_batch_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_no: Mapped[str] = mapped_column(String(30), unique=True)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    running_no: Mapped[int] = mapped_column(Integer)
    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"))
    national_id: Mapped[str] = mapped_column(ForeignKey("citizens.national_id"))
    title: Mapped[str] = mapped_column(String(40))
    sex: Mapped[str] = mapped_column(String(10))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    age: Mapped[int] = mapped_column(Integer)
    disabled: Mapped[bool] = mapped_column(Boolean)
    case_type: Mapped[str] = mapped_column(String(10))  # disabled | general
    house_id: Mapped[str | None] = mapped_column(String(11), nullable=True)
    welfare_type_code: Mapped[str] = mapped_column(ForeignKey("welfare_types.code"))
    programme_code: Mapped[str | None] = mapped_column(ForeignKey("programmes.code"), nullable=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    hardship: Mapped[str] = mapped_column(Text)
    bank_code: Mapped[str] = mapped_column(String(3))
    branch_code: Mapped[str | None] = mapped_column(String(4), nullable=True)
    account_name: Mapped[str] = mapped_column(String(100))
    account_no: Mapped[str] = mapped_column(String(15))
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="registered")
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    locked_batch_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    locked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(150))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseDocument(Base):
    """One uploaded version of a case's document; a replaced one keeps ``replaced_at``."""

    __tablename__ = "case_documents"
    __table_args__ = (Index("ix_case_documents_case_id_kind", "case_id", "kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(20))  # related | financial
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by: Mapped[str] = mapped_column(String(150))
    replaced_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    replaced_by: Mapped[str | None] = mapped_column(String(150), nullable=True)


class HomeVisit(Base):
    """A home visit (เยี่ยมบ้าน) of a case: when, what was found, by whom."""

    __tablename__ = "home_visits"
    __table_args__ = (Index("ix_home_visits_case_id", "case_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    visited_on: Mapped[dt.date] = mapped_column(Date)
    findings: Mapped[str] = mapped_column(Text)
    officer: Mapped[str] = mapped_column(String(150))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseEvent(Base):
    """The status history of a case (recorded, on the agenda, approved, paid, ...)."""

    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_case_id", "case_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    by: Mapped[str | None] = mapped_column(String(150), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)


class BatchLock(Base):
    """Cases locked into an approval batch, with the snapshots sent in ``cases.locked``."""

    __tablename__ = "batch_locks"

    batch_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    district_code: Mapped[str] = mapped_column(String(4))
    locked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
