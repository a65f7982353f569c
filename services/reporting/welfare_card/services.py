"""Reporting's consumers of the welfare card measure's events (``welfare_card.*``, producer intake).

Each handler is idempotent and order-tolerant on its own, beside the platform inbox: an import is
applied once (``rpt_wc_imports``) and sets each key's total only when it is newer than the import
that set it; a development or follow-up record keeps its highest revision; a record's counts move
from the rows its old state counted in to the rows its new state counts in (deltas written in key
order, so two PostgreSQL workers cannot deadlock; increments commute).  A row left at zero by
every measure is deleted, so the tables are the same whichever path led to them.  Handlers flush,
never commit: the inbox (or :func:`rebuild`) owns the transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.reporting.welfare_card.models import (
    WC_TABLES,
    RptWcDaily,
    RptWcDeadline,
    RptWcDevelopedTotal,
    RptWcDevelopment,
    RptWcDevelopmentTotal,
    RptWcFollowUp,
    RptWcFollowUpTotal,
    RptWcImport,
    RptWcIntent,
    RptWcParticipantProgress,
    RptWcParticipantTotal,
    RptWcProject,
)
from shared import events

Payload = Mapping[str, Any]
Handler = Callable[[Session, events.Event], None]
BANGKOK = ZoneInfo("Asia/Bangkok")

#: aggregate table -> (key columns, measure columns)
AGGREGATES: dict[type[Any], tuple[tuple[str, ...], tuple[str, ...]]] = {
    RptWcDevelopmentTotal: (
        ("province_code", "area_code", "agency", "group_code", "project_id", "result"),
        ("records", "late_records"),
    ),
    RptWcDevelopedTotal: (("province_code", "area_code", "agency", "group_code"), ("recorded", "developed")),
    RptWcFollowUpTotal: (
        ("province_code", "area_code", "agency", "group_code", "round", "progress"),
        ("participants", "late"),
    ),
    RptWcDaily: (("province_code", "area_code", "agency", "kind", "day"), ("count",)),
}
#: (aggregate table, key, measures) — what one record adds to the summaries.
Contribution = tuple[type[Any], tuple[Any, ...], tuple[int, ...]]


def bangkok_day(moment: dt.datetime) -> dt.date:
    """The Bangkok calendar day of an aware moment."""
    return moment.astimezone(BANGKOK).date()


# --- statements ------------------------------------------------------------------------------------
_STATEMENTS: dict[str, dict[Any, Any]] = {}


def _stmts(session: Session) -> dict[Any, Any]:
    """Upserts, built once per dialect (PostgreSQL and SQLite both have ON CONFLICT)."""
    dialect = session.get_bind().dialect.name
    if dialect not in _STATEMENTS:
        ins = postgresql.insert if dialect == "postgresql" else sqlite.insert
        out: dict[Any, Any] = {}
        for model, (keys, measures) in AGGREGATES.items():
            stmt = ins(model.__table__)
            table = model.__table__.c
            out[model] = stmt.on_conflict_do_update(
                index_elements=list(keys), set_={m: table[m] + stmt.excluded[m] for m in measures}
            )
        totals = ins(RptWcParticipantTotal.__table__)
        t = RptWcParticipantTotal.__table__.c
        out["participants"] = totals.on_conflict_do_update(
            index_elements=["province_code", "area_code", "agency", "group_code"],
            set_={
                "participants": totals.excluded.participants,
                "import_id": totals.excluded.import_id,
                "updated_at": totals.excluded.updated_at,
            },
            where=t.import_id <= totals.excluded.import_id,
        )
        projects = ins(RptWcProject.__table__)
        out["project"] = projects.on_conflict_do_update(
            index_elements=["project_id"],
            set_={k: projects.excluded[k] for k in ("name", "kind", "agency", "province_code", "seen_at")},
            where=RptWcProject.__table__.c.seen_at <= projects.excluded.seen_at,
        )
        deadlines = ins(RptWcDeadline.__table__)
        out["deadline"] = deadlines.on_conflict_do_update(
            index_elements=["phase"],
            set_={"record_by": deadlines.excluded.record_by, "seen_at": deadlines.excluded.seen_at},
            where=RptWcDeadline.__table__.c.seen_at <= deadlines.excluded.seen_at,
        )
        for name, model, key in (
            ("import", RptWcImport, "import_id"),
            ("intent", RptWcIntent, "intent_id"),
            ("development", RptWcDevelopment, "development_id"),
            ("follow_up", RptWcFollowUp, "follow_up_id"),
            ("progress", RptWcParticipantProgress, "participant_id"),
        ):
            column = model.__table__.c[key]
            out[name] = ins(model.__table__).on_conflict_do_nothing(index_elements=[key]).returning(column)
        _STATEMENTS[dialect] = out
    return _STATEMENTS[dialect]


def _insert_new(session: Session, name: str, values: Mapping[str, Any]) -> bool:
    """Insert a row unless its key exists; True when this call created it."""
    return session.execute(_stmts(session)[name], dict(values)).first() is not None


def _remember_deadline(session: Session, phase: str, record_by: dt.date | None, seen_at: dt.datetime) -> None:
    """The recording deadline intake's configuration had when it sent the event (the latest wins)."""
    session.execute(_stmts(session)["deadline"], {"phase": phase, "record_by": record_by, "seen_at": seen_at})


# --- moving contributions --------------------------------------------------------------------------
class Moves:
    """Changes of the aggregate rows during one event, written in key order at the end."""

    def __init__(self) -> None:
        self.deltas: dict[tuple[str, tuple[Any, ...]], tuple[type[Any], list[int]]] = {}

    def add(self, contributions: Iterable[Contribution], sign: int = 1) -> None:
        for model, key, measures in contributions:
            _, row = self.deltas.setdefault((model.__tablename__, key), (model, [0] * len(measures)))
            for i, value in enumerate(measures):
                row[i] += sign * value

    def move(self, old: Iterable[Contribution], new: Iterable[Contribution]) -> None:
        """A record's contribution changes from ``old`` to ``new``."""
        old, new = list(old), list(new)
        if old != new:
            self.add(old, -1)
            self.add(new, 1)

    def write(self, session: Session) -> None:
        stmts = _stmts(session)
        by_model: dict[type[Any], list[tuple[tuple[Any, ...], list[int]]]] = {}
        for (_name, key), (model, values) in sorted(self.deltas.items(), key=lambda item: repr(item[0])):
            if any(values):
                by_model.setdefault(model, []).append((key, values))
        for model, rows in by_model.items():
            keys, measures = AGGREGATES[model]
            session.execute(
                stmts[model],
                [dict(zip(keys, k, strict=True)) | dict(zip(measures, v, strict=True)) for k, v in rows],
            )
            emptied = [k for k, v in rows if any(x < 0 for x in v)]
            if emptied:  # a row left at zero disappears, as if it had never been
                table = model.__table__.c
                session.execute(
                    delete(model).where(
                        tuple_(*(table[k] for k in keys)).in_(emptied), *(table[m] == 0 for m in measures)
                    )
                )
        self.deltas.clear()


def _development_contribution(row: RptWcDevelopment) -> list[Contribution]:
    where = (row.province_code, row.area_code, row.agency)
    return [
        (
            RptWcDevelopmentTotal,
            (*where, row.group_code, row.project_id, row.result),
            (1, int(row.late)),
        ),
        (RptWcDaily, (*where, "developments", bangkok_day(row.first_recorded_at)), (1,)),
    ]


def _progress_contribution(row: RptWcParticipantProgress) -> list[Contribution]:
    if row.records <= 0:
        return []
    key = (row.province_code, row.area_code, row.agency, row.group_code)
    return [(RptWcDevelopedTotal, key, (1, int(row.completed > 0)))]


def _follow_up_contribution(row: RptWcFollowUp) -> list[Contribution]:
    where = (row.province_code, row.area_code, row.agency)
    return [
        (RptWcFollowUpTotal, (*where, row.group_code, row.round, row.progress), (1, int(row.late))),
        (RptWcDaily, (*where, "follow_ups", bangkok_day(row.first_recorded_at)), (1,)),
    ]


# --- the events --------------------------------------------------------------------------------------
def record_participants_changed(session: Session, payload: Payload) -> None:
    """``welfare_card.participants_changed``: an import set the number of participants of some keys."""
    applied_at: dt.datetime = payload["applied_at"]
    created = _insert_new(
        session,
        "import",
        {
            "import_id": payload["import_id"],
            "applied_at": applied_at,
            "applied_on": bangkok_day(applied_at),
            "applied_by": payload["applied_by"],
            "province_code": payload.get("province_code"),
            "agency": payload.get("agency"),
            "lines": payload["lines"],
            "added": payload["added"],
            "updated": payload["updated"],
            "unchanged": payload["unchanged"],
            "development_record_by": payload.get("development_record_by"),
        },
    )
    if not created:
        return  # this import was applied already
    _remember_deadline(session, "development", payload.get("development_record_by"), applied_at)
    counts = sorted(
        payload["counts"], key=lambda c: (c["province_code"], c["area_code"], c["agency"], c["group"])
    )
    if counts:
        now = dt.datetime.now(dt.UTC)
        session.execute(
            _stmts(session)["participants"],
            [
                {
                    "province_code": c["province_code"],
                    "area_code": c["area_code"],
                    "agency": c["agency"],
                    "group_code": c["group"],
                    "participants": c["total"],
                    "import_id": payload["import_id"],
                    "updated_at": now,
                }
                for c in counts
            ],
        )
    moves = Moves()
    day = bangkok_day(applied_at)
    moves.add(
        (RptWcDaily, (c["province_code"], c["area_code"], c["agency"], "participants", day), (c["delta"],))
        for c in counts
    )
    moves.write(session)


def _remember_project(session: Session, p: Payload) -> None:
    session.execute(
        _stmts(session)["project"],
        {
            "project_id": p["project_id"],
            "name": p["project_name"][:300],
            "kind": p["project_kind"],
            "agency": p.get("project_agency"),
            "province_code": p.get("project_province_code"),
            "seen_at": p["recorded_at"],
        },
    )


def _ref(p: Payload) -> dict[str, Any]:
    return {
        "province_code": p["province_code"],
        "area_code": p["area_code"],
        "agency": p["agency"],
        "group_code": p["group"],
    }


def record_development(session: Session, p: Payload) -> None:
    """``welfare_card.development_recorded``: one participant's result in one project (a revision)."""
    _remember_project(session, p)
    _remember_deadline(session, "development", p.get("record_by"), p["recorded_at"])
    values = {
        **_ref(p),
        "revision": p["revision"],
        "project_id": p["project_id"],
        "result": p["result"],
        "recorded_on": p["recorded_on"],
        "recorded_at": p["recorded_at"],
        "late": bool(p["late"]),
    }
    created = _insert_new(
        session,
        "development",
        {
            "development_id": p["development_id"],
            "participant_id": p["participant_id"],
            "first_recorded_at": p["recorded_at"],
            **values,
        },
    )
    row = session.scalars(
        select(RptWcDevelopment)
        .where(RptWcDevelopment.development_id == p["development_id"])
        .with_for_update()
    ).one()
    moves = Moves()
    was_completed = None if created else row.result == "completed"
    old = [] if created else _development_contribution(row)
    if not created:
        if p["revision"] > row.revision:
            for k, v in values.items():
                setattr(row, k, v)
        if p["recorded_at"] < row.first_recorded_at:  # an earlier revision arrived after a later one
            row.first_recorded_at = p["recorded_at"]
    moves.move(old, _development_contribution(row))
    _update_progress(session, row, p, moves, was_completed=was_completed)
    session.flush()
    moves.write(session)


def _update_progress(
    session: Session, row: RptWcDevelopment, p: Payload, moves: Moves, *, was_completed: bool | None
) -> None:
    """Keep the participant's record counts (``was_completed`` None: the record is new)."""
    _insert_new(
        session,
        "progress",
        {
            "participant_id": row.participant_id,
            **_ref(p),
            "ref_at": p["recorded_at"],
            "ref_id": p["development_id"],
            "records": 0,
            "completed": 0,
        },
    )
    person = session.scalars(
        select(RptWcParticipantProgress)
        .where(RptWcParticipantProgress.participant_id == row.participant_id)
        .with_for_update()
    ).one()
    old = _progress_contribution(person)
    is_completed = row.result == "completed"
    if was_completed is None:
        person.records += 1
        person.completed += int(is_completed)
    else:
        person.completed += int(is_completed) - int(was_completed)
    if (p["recorded_at"], p["development_id"]) > (person.ref_at, person.ref_id):
        for k, v in _ref(p).items():
            setattr(person, k, v)
        person.ref_at, person.ref_id = p["recorded_at"], p["development_id"]
    moves.move(old, _progress_contribution(person))


def record_follow_up(session: Session, p: Payload) -> None:
    """``welfare_card.follow_up_recorded``: one participant's progress at one round (a revision)."""
    _remember_deadline(session, f"follow_up:{p['round']}", p.get("record_by"), p["recorded_at"])
    values = {
        **_ref(p),
        "revision": p["revision"],
        "round": p["round"],
        "progress": p["progress"],
        "recorded_at": p["recorded_at"],
        "late": bool(p["late"]),
    }
    created = _insert_new(
        session,
        "follow_up",
        {"follow_up_id": p["follow_up_id"], "first_recorded_at": p["recorded_at"], **values},
    )
    row = session.scalars(
        select(RptWcFollowUp).where(RptWcFollowUp.follow_up_id == p["follow_up_id"]).with_for_update()
    ).one()
    moves = Moves()
    old = [] if created else _follow_up_contribution(row)
    if not created:
        if p["revision"] > row.revision:
            for k, v in values.items():
                setattr(row, k, v)
        if p["recorded_at"] < row.first_recorded_at:
            row.first_recorded_at = p["recorded_at"]
    moves.move(old, _follow_up_contribution(row))
    session.flush()
    moves.write(session)


def record_intent(session: Session, p: Payload) -> None:
    """``welfare_card.intent_registered``: a citizen's wish to join was recorded (counted once)."""
    agency = p.get("agency") or ""
    created = _insert_new(
        session,
        "intent",
        {
            "intent_id": p["intent_id"],
            "province_code": p["province_code"],
            "area_code": p["area_code"],
            "agency": agency,
            "place_id": p.get("place_id"),
            "registered_on": p["registered_on"],
            "registered_at": p["registered_at"],
        },
    )
    if created:
        moves = Moves()
        day = bangkok_day(p["registered_at"])
        moves.add([(RptWcDaily, (p["province_code"], p["area_code"], agency, "intents", day), (1,))])
        moves.write(session)


def on_participants_changed(session: Session, event: events.Event) -> None:
    """An import of the participants list was applied."""
    record_participants_changed(session, event.payload)


def on_development_recorded(session: Session, event: events.Event) -> None:
    """A development result was recorded or corrected."""
    record_development(session, event.payload)


def on_follow_up_recorded(session: Session, event: events.Event) -> None:
    """A follow-up was recorded or corrected."""
    record_follow_up(session, event.payload)


def on_intent_registered(session: Session, event: events.Event) -> None:
    """An intent to join was registered."""
    record_intent(session, event.payload)


#: event type -> consumer (registered on the reporting queue by ``services.reporting.tasks``).
HANDLERS: dict[str, Handler] = {
    "welfare_card.participants_changed": on_participants_changed,
    "welfare_card.development_recorded": on_development_recorded,
    "welfare_card.follow_up_recorded": on_follow_up_recorded,
    "welfare_card.intent_registered": on_intent_registered,
}


def rebuild(session: Session, envelopes: Iterable[Mapping[str, Any] | events.Event]) -> dict[str, int]:
    """Empty the measure's tables and apply ``envelopes`` again in the order given.

    An event id seen twice is applied once; other event types are counted and skipped.
    """
    for model in reversed(WC_TABLES):
        session.execute(delete(model))
    seen: set[str] = set()
    counts = {"applied": 0, "duplicates": 0, "ignored": 0}
    for item in envelopes:
        event = item if isinstance(item, events.Event) else events.parse(dict(item))
        if event.event_id in seen:
            counts["duplicates"] += 1
            continue
        seen.add(event.event_id)
        handler = HANDLERS.get(event.event_type)
        if handler is None:
            counts["ignored"] += 1
            continue
        handler(session, event)
        counts["applied"] += 1
    session.flush()
    return counts
