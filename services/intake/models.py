"""Intake's own tables."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Boolean, Numeric, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import make_metadata


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
    required_documents: Mapped[str] = mapped_column(Text, default="related,financial")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
