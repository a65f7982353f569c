"""Reporting's own tables."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from shared.db import make_metadata


class Base(DeclarativeBase):
    """Base of reporting's tables."""

    metadata = make_metadata()
