"""Reporting's tables of the state welfare card measure, built from intake's ``welfare_card.*`` events.

No national ID and no name is stored.  The aggregate tables (``*_totals``, ``rpt_wc_daily``) hold
counts per area, agency and group.  Three tables keep one row per record, named only by intake's
opaque ids, because the events need them: a correction (a higher ``revision``) must move its
record's counts from the old result to the new one, and a participant with several development
records must be counted once.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.reporting.models import Base
from shared.db import UTCDateTime, utcnow

Code2 = String(2)
Code4 = String(4)
Short = String(32)


class RptWcParticipantTotal(Base):
    """Participants of one (area, agency, group), as the last import applied to that key says.

    ``import_id`` is the import that set ``participants``: an older import delivered late never
    overwrites a newer one.  A key that drops to zero keeps its row (and its guard).
    """

    __tablename__ = "rpt_wc_participant_totals"

    province_code: Mapped[str] = mapped_column(Code2, primary_key=True)
    area_code: Mapped[str] = mapped_column(Code4, primary_key=True)
    agency: Mapped[str] = mapped_column(Short, primary_key=True)
    group_code: Mapped[str] = mapped_column(Short, primary_key=True)
    participants: Mapped[int] = mapped_column(Integer, default=0)
    import_id: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RptWcImport(Base):
    """An applied import of the participants list (figures only; when, by whom, the deadline in force)."""

    __tablename__ = "rpt_wc_imports"

    import_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    applied_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    applied_on: Mapped[dt.date] = mapped_column(Date)  # Bangkok date
    applied_by: Mapped[str] = mapped_column(String(150))
    province_code: Mapped[str | None] = mapped_column(Code2, nullable=True)
    agency: Mapped[str | None] = mapped_column(Short, nullable=True)
    lines: Mapped[int] = mapped_column(Integer)
    added: Mapped[int] = mapped_column(Integer)
    updated: Mapped[int] = mapped_column(Integer)
    unchanged: Mapped[int] = mapped_column(Integer)
    development_record_by: Mapped[dt.date | None] = mapped_column(Date, nullable=True)


class RptWcProject(Base):
    """A development project as last seen in a development record."""

    __tablename__ = "rpt_wc_projects"

    project_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(Short)
    agency: Mapped[str | None] = mapped_column(Short, nullable=True)
    province_code: Mapped[str | None] = mapped_column(Code2, nullable=True)
    seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class RptWcDevelopment(Base):
    """One development record (participant × project) at its highest revision seen."""

    __tablename__ = "rpt_wc_developments"
    __table_args__ = (Index("ix_rpt_wc_developments_participant", "participant_id"),)

    development_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer)
    participant_id: Mapped[str] = mapped_column(String(64))
    province_code: Mapped[str] = mapped_column(Code2)
    area_code: Mapped[str] = mapped_column(Code4)
    agency: Mapped[str] = mapped_column(Short)
    group_code: Mapped[str] = mapped_column(Short)
    project_id: Mapped[int] = mapped_column(Integer)
    result: Mapped[str] = mapped_column(Short)
    recorded_on: Mapped[dt.date] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    late: Mapped[bool] = mapped_column(Boolean)
    # The earliest revision's recording moment seen: the day the record was first made (daily counts).
    first_recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class RptWcParticipantProgress(Base):
    """What the development records say of one participant: how many, how many completed.

    The area, agency and group are those of the participant's latest record (by ``ref_at``), so a
    participant moved by a later import counts where their newest record puts them.
    """

    __tablename__ = "rpt_wc_participant_progress"

    participant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    province_code: Mapped[str] = mapped_column(Code2)
    area_code: Mapped[str] = mapped_column(Code4)
    agency: Mapped[str] = mapped_column(Short)
    group_code: Mapped[str] = mapped_column(Short)
    ref_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ref_id: Mapped[int] = mapped_column(Integer)  # the development id that gave the area (ties)
    records: Mapped[int] = mapped_column(Integer, default=0)
    completed: Mapped[int] = mapped_column(Integer, default=0)


class RptWcFollowUp(Base):
    """One follow-up record (participant × round) at its highest revision seen; no participant id."""

    __tablename__ = "rpt_wc_follow_ups"

    follow_up_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer)
    round: Mapped[str] = mapped_column(String(7))
    province_code: Mapped[str] = mapped_column(Code2)
    area_code: Mapped[str] = mapped_column(Code4)
    agency: Mapped[str] = mapped_column(Short)
    group_code: Mapped[str] = mapped_column(Short)
    progress: Mapped[str] = mapped_column(Short)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    late: Mapped[bool] = mapped_column(Boolean)
    first_recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class RptWcIntent(Base):
    """One intent registration (แบบย่อ): where and when, nobody's identity."""

    __tablename__ = "rpt_wc_intents"
    __table_args__ = (Index("ix_rpt_wc_intents_area", "province_code", "area_code"),)

    intent_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    province_code: Mapped[str] = mapped_column(Code2)
    area_code: Mapped[str] = mapped_column(Code4)
    agency: Mapped[str] = mapped_column(Short)  # "" when the citizen named none
    place_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    registered_on: Mapped[dt.date] = mapped_column(Date)
    registered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class RptWcDeadline(Base):
    """A recording deadline in force, as intake's configuration sent it with the latest event.

    ``phase`` is ``development`` or ``follow_up:<round>``; the latest event (``seen_at``) wins.
    """

    __tablename__ = "rpt_wc_deadlines"

    phase: Mapped[str] = mapped_column(String(40), primary_key=True)
    record_by: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


# --- aggregates kept by the consumers (moves of each record's contribution) -----------------------
class RptWcDevelopmentTotal(Base):
    """Development records per (area, agency, group, project, result), and how many were late."""

    __tablename__ = "rpt_wc_development_totals"

    province_code: Mapped[str] = mapped_column(Code2, primary_key=True)
    area_code: Mapped[str] = mapped_column(Code4, primary_key=True)
    agency: Mapped[str] = mapped_column(Short, primary_key=True)
    group_code: Mapped[str] = mapped_column(Short, primary_key=True)
    project_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    result: Mapped[str] = mapped_column(Short, primary_key=True)
    records: Mapped[int] = mapped_column(Integer, default=0)
    late_records: Mapped[int] = mapped_column(Integer, default=0)


class RptWcDevelopedTotal(Base):
    """Participants with at least one development record (``recorded``) / one completed (``developed``)."""

    __tablename__ = "rpt_wc_developed_totals"

    province_code: Mapped[str] = mapped_column(Code2, primary_key=True)
    area_code: Mapped[str] = mapped_column(Code4, primary_key=True)
    agency: Mapped[str] = mapped_column(Short, primary_key=True)
    group_code: Mapped[str] = mapped_column(Short, primary_key=True)
    recorded: Mapped[int] = mapped_column(Integer, default=0)
    developed: Mapped[int] = mapped_column(Integer, default=0)


class RptWcFollowUpTotal(Base):
    """Participants followed up per (round, area, agency, group, progress), and how many late."""

    __tablename__ = "rpt_wc_follow_up_totals"

    province_code: Mapped[str] = mapped_column(Code2, primary_key=True)
    area_code: Mapped[str] = mapped_column(Code4, primary_key=True)
    agency: Mapped[str] = mapped_column(Short, primary_key=True)
    group_code: Mapped[str] = mapped_column(Short, primary_key=True)
    round: Mapped[str] = mapped_column(String(7), primary_key=True)
    progress: Mapped[str] = mapped_column(Short, primary_key=True)
    participants: Mapped[int] = mapped_column(Integer, default=0)
    late: Mapped[int] = mapped_column(Integer, default=0)


class RptWcDaily(Base):
    """What was recorded per Bangkok day, area and agency: ``kind`` = participants (net change of the
    list), developments, follow_ups, intents (new records; corrections are not counted again)."""

    __tablename__ = "rpt_wc_daily"

    province_code: Mapped[str] = mapped_column(Code2, primary_key=True)
    area_code: Mapped[str] = mapped_column(Code4, primary_key=True)
    agency: Mapped[str] = mapped_column(Short, primary_key=True)
    kind: Mapped[str] = mapped_column(Short, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


#: Every table of the measure: all are built from events (a rebuild empties and refills them).
WC_TABLES = (
    RptWcParticipantTotal,
    RptWcImport,
    RptWcProject,
    RptWcDevelopment,
    RptWcParticipantProgress,
    RptWcFollowUp,
    RptWcIntent,
    RptWcDeadline,
    RptWcDevelopmentTotal,
    RptWcDevelopedTotal,
    RptWcFollowUpTotal,
    RptWcDaily,
)
