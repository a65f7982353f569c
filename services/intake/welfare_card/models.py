"""Intake's tables of the state welfare card measure (migration 0005).

Participants are keyed by national ID (only intake stores it); the other stages know them by the
opaque ``id`` that the ``welfare_card.*`` events carry as ``participant_id``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.intake.models import Base
from shared.db import UTCDateTime, utcnow
from shared.models import BigId


class Province(Base):
    """A province of Thailand (reference data from the geothai package)."""

    __tablename__ = "wc_provinces"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name_th: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))


class Area(Base):
    """A district (เขต/อำเภอ) of Thailand; Bangkok's are E-Case's 1001–1050."""

    __tablename__ = "wc_areas"
    __table_args__ = (Index("ix_wc_areas_province_code", "province_code"),)

    code: Mapped[str] = mapped_column(String(4), primary_key=True)
    province_code: Mapped[str] = mapped_column(ForeignKey("wc_provinces.code"))
    name_th: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))


class Participant(Base):
    """A participant of the measure: area, developing agency and group, from the imported lists."""

    __tablename__ = "wc_participants"
    __table_args__ = (
        # lists and the per-import counts by (province, area, agency, group)
        Index("ix_wc_participants_scope", "province_code", "area_code", "agency", "grp"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    national_id: Mapped[str] = mapped_column(String(13), unique=True)
    title: Mapped[str | None] = mapped_column(String(40), nullable=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    province_code: Mapped[str] = mapped_column(String(2))
    area_code: Mapped[str] = mapped_column(String(4))
    agency: Mapped[str] = mapped_column(String(10))
    group: Mapped[str] = mapped_column("grp", String(20))
    import_id: Mapped[int | None] = mapped_column(
        BigInteger, nullable=True
    )  # the import that last changed it
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ParticipantImport(Base):
    """One uploaded participants list and what became of it (all or nothing)."""

    __tablename__ = "wc_imports"
    __table_args__ = (Index("ix_wc_imports_province_code_agency", "province_code", "agency"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(10))  # csv | xlsx
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    province_code: Mapped[str] = mapped_column(String(2))
    agency: Mapped[str] = mapped_column(String(10))
    #: queued | done (applied) | rejected (bad lines: nothing kept) | failed (unreadable file)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    lines: Mapped[int] = mapped_column(Integer, default=0)
    added: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected_count: Mapped[int] = mapped_column(Integer, default=0)
    #: the first rejected lines, ``[{line, field, message}]`` (at most ``MAX_LISTED_ERRORS``)
    rejected: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str] = mapped_column(String(150))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ImportFile(Base):
    """The raw bytes of an uploaded list (kept apart so that listing imports never loads them)."""

    __tablename__ = "wc_import_files"

    import_id: Mapped[int] = mapped_column(ForeignKey("wc_imports.id"), primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Project(Base):
    """A development project: a developing agency's, or an additional provincial project."""

    __tablename__ = "wc_projects"
    __table_args__ = (UniqueConstraint("kind", "agency", "province_code", "name_th"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))  # agency | provincial
    agency: Mapped[str | None] = mapped_column(String(10), nullable=True)
    province_code: Mapped[str | None] = mapped_column(String(2), nullable=True)
    name_th: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(150))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Development(Base):
    """A project's result for one participant (one per participant and project; corrections revise it)."""

    __tablename__ = "wc_developments"
    __table_args__ = (UniqueConstraint("participant_id", "project_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("wc_participants.id"))
    project_id: Mapped[int] = mapped_column(ForeignKey("wc_projects.id"))
    result: Mapped[str] = mapped_column(String(20))
    recorded_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_by: Mapped[str] = mapped_column(String(150))
    recorded_by_role: Mapped[str] = mapped_column(String(30))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class FollowUp(Base):
    """A district team's record of a participant's self-development progress for one round."""

    __tablename__ = "wc_follow_ups"
    __table_args__ = (UniqueConstraint("participant_id", "round"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("wc_participants.id"))
    round: Mapped[str] = mapped_column(String(7))
    progress: Mapped[str] = mapped_column(String(30))
    recorded_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_by: Mapped[str] = mapped_column(String(150))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class RegistrationPlace(Base):
    """A place where citizens of a district register their wish to join (shown by the public check)."""

    __tablename__ = "wc_registration_places"
    __table_args__ = (Index("ix_wc_registration_places_area_code", "area_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    area_code: Mapped[str] = mapped_column(ForeignKey("wc_areas.code"))
    province_code: Mapped[str] = mapped_column(String(2))
    name: Mapped[str] = mapped_column(String(300))
    address: Mapped[str | None] = mapped_column(String(500), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(150))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Intent(Base):
    """A citizen's wish to join, recorded by a district (แบบย่อ)."""

    __tablename__ = "wc_intents"
    __table_args__ = (Index("ix_wc_intents_area_code_registered_on", "area_code", "registered_on"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    national_id: Mapped[str] = mapped_column(String(13), unique=True)
    title: Mapped[str | None] = mapped_column(String(40), nullable=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    province_code: Mapped[str] = mapped_column(String(2))
    area_code: Mapped[str] = mapped_column(ForeignKey("wc_areas.code"))
    agency: Mapped[str | None] = mapped_column(String(10), nullable=True)
    place_id: Mapped[int | None] = mapped_column(ForeignKey("wc_registration_places.id"), nullable=True)
    registered_on: Mapped[dt.date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(150))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
