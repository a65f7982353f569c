"""The gateway's own tables: users."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UTCDateTime, make_metadata, utcnow


class Base(DeclarativeBase):
    """Base of the gateway's tables."""

    metadata = make_metadata()


class User(Base):
    """A person who logs in: one role and, except city-wide roles, one district.

    The welfare card measure's roles are scoped otherwise: a provincial secretariat by
    ``province_code``, an agency recorder by ``agency`` (and optionally ``province_code``), a
    district team by ``district_code`` (any district of Thailand).
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(40))
    district_code: Mapped[str | None] = mapped_column(String(4), nullable=True)
    province_code: Mapped[str | None] = mapped_column(String(2), nullable=True)
    agency: Mapped[str | None] = mapped_column(String(10), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Bumped when the user is disabled, their password is reset or changed, or their role or
    #: scope changes; a bearer token issued at an older generation is refused (``tokens.py``).
    token_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class WebSession(Base):
    """A logged-in browser: server-side, so logout and disabling a user end it at once (S2)."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie value
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    access_token: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    #: What a page must remember between requests and must not put in the cookie (the welfare
    #: card participant being viewed: a national ID).  Ends with the session.
    page_state: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
