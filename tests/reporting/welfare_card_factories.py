"""``welfare_card.*`` envelopes for reporting's tests, built through the real contracts (``events.build``),
and delivery through the platform inbox as the reporting worker does it."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from services.reporting.welfare_card.models import WC_TABLES
from services.reporting.welfare_card.services import HANDLERS
from shared import events, inbox
from shared.config import MessagingSettings
from shared.messaging import task_name
from shared.models import DeadLetter, MessageAttempt, ProcessedMessage

T0 = dt.datetime(2019, 2, 1, 3, 0, tzinfo=dt.UTC)  # 1 Feb 2562, 10:00 in Bangkok
_ids = itertools.count(1)


def at(days: float, hours: float = 0) -> dt.datetime:
    """A moment ``days`` (and ``hours``) after T0."""
    return T0 + dt.timedelta(days=days, hours=hours)


def envelope(event_type: str, payload: dict[str, Any], when: dt.datetime) -> dict[str, Any]:
    """A valid envelope (the payload checked strictly, as the producer does) at a chosen time."""
    env = events.build(event_type, payload, producer="intake")
    env["occurred_at"] = when.isoformat()
    return env


def count(area: str, agency: str, group: str, delta: int, total: int) -> dict[str, Any]:
    return {
        "province_code": area[:2],
        "area_code": area,
        "agency": agency,
        "group": group,
        "delta": delta,
        "total": total,
    }


def participants_changed(
    import_id: int,
    counts: list[dict[str, Any]],
    when: dt.datetime,
    *,
    record_by: dt.date | None = dt.date(2019, 7, 15),
    added: int | None = None,
) -> dict[str, Any]:
    positive = sum(c["delta"] for c in counts if c["delta"] > 0)
    payload = {
        "import_id": import_id,
        "applied_at": when.isoformat(),
        "applied_by": "central.admin",
        "province_code": None,
        "agency": None,
        "lines": positive,
        "added": positive if added is None else added,
        "updated": 0,
        "unchanged": 0,
        "counts": counts,
        "development_record_by": record_by.isoformat() if record_by else None,
    }
    return envelope("welfare_card.participants_changed", payload, when)


def participant(area: str = "2401", agency: str = "cdd", group: str = "not_developed") -> dict[str, Any]:
    """A participant as the events name them (an opaque id, never a national ID)."""
    return {
        "participant_id": str(uuid.uuid4()),
        "province_code": area[:2],
        "area_code": area,
        "agency": agency,
        "group": group,
    }


PROJECTS = {
    1: ("ฝึกอาชีพการทำขนม", "agency", "cdd", None),
    2: ("อบรมการเกษตรแบบผสมผสาน", "agency", "moac", None),
    3: ("โครงการเพิ่มเติมของจังหวัดฉะเชิงเทรา: ทอผ้า", "provincial", None, "24"),
}


def development(
    person: dict[str, Any],
    when: dt.datetime,
    *,
    project: int = 1,
    result: str = "completed",
    development_id: int | None = None,
    revision: int = 1,
    record_by: dt.date | None = dt.date(2019, 7, 15),
) -> dict[str, Any]:
    name, kind, agency, province = PROJECTS[project]
    payload = {
        **person,
        "development_id": development_id or next(_ids),
        "revision": revision,
        "project_id": project,
        "project_name": name,
        "project_kind": kind,
        "project_agency": agency,
        "project_province_code": province,
        "result": result,
        "recorded_on": (when - dt.timedelta(days=1)).date().isoformat(),
        "recorded_at": when.isoformat(),
        "recorded_by_role": "agency_recorder" if kind == "agency" else "provincial_secretariat",
        "record_by": record_by.isoformat() if record_by else None,
        "late": record_by is not None and when.date() > record_by,
    }
    return envelope("welfare_card.development_recorded", payload, when)


def follow_up(
    person: dict[str, Any],
    when: dt.datetime,
    *,
    progress: str = "progressing",
    follow_up_id: int | None = None,
    revision: int = 1,
    round_: str = "2019-06",
) -> dict[str, Any]:
    record_by = dt.date(2019, 7, 15)
    payload = {
        **person,
        "follow_up_id": follow_up_id or next(_ids),
        "revision": revision,
        "round": round_,
        "progress": progress,
        "recorded_on": when.date().isoformat(),
        "recorded_at": when.isoformat(),
        "record_by": record_by.isoformat(),
        "late": when.date() > record_by,
    }
    return envelope("welfare_card.follow_up_recorded", payload, when)


def intent(
    area: str, when: dt.datetime, *, agency: str | None = "gsb", place_id: int | None = 1
) -> dict[str, Any]:
    payload = {
        "intent_id": next(_ids),
        "province_code": area[:2],
        "area_code": area,
        "agency": agency,
        "place_id": place_id,
        "registered_on": when.date().isoformat(),
        "registered_at": when.isoformat(),
    }
    return envelope("welfare_card.intent_registered", payload, when)


# --- delivery ------------------------------------------------------------------------------------------
def deliver(sessions: sessionmaker[Session], *envelopes: dict[str, Any]) -> list[str]:
    """Deliver each message through the platform inbox with reporting's consumer, as the worker does."""
    settings = MessagingSettings()
    outcomes = []
    for env in envelopes:
        event_type = env["event_type"]
        outcomes.append(
            inbox.handle(
                sessions,
                consumer=task_name("reporting", event_type),
                queue="reporting",
                message=env,
                handler=HANDLERS[event_type],
                settings=settings,
            )
        )
    return outcomes


def apply_directly(sessions: sessionmaker[Session], *envelopes: dict[str, Any]) -> None:
    """Apply events with the handlers alone (no inbox), one transaction each: their own idempotence."""
    for env in envelopes:
        event = events.parse(env)
        with sessions.begin() as session:
            HANDLERS[event.event_type](session, event)


def empty(sessions: sessionmaker[Session]) -> None:
    """Empty the measure's tables and the inbox's bookkeeping."""
    with sessions.begin() as s:
        for model in (*WC_TABLES, ProcessedMessage, MessageAttempt, DeadLetter):
            s.execute(delete(model))


def dump(sessions: sessionmaker[Session]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the measure (without the bookkeeping ``updated_at``), sorted."""
    out = {}
    with sessions() as s:
        for model in WC_TABLES:
            cols = [c for c in model.__table__.columns if c.name != "updated_at"]
            out[model.__tablename__] = sorted((tuple(r) for r in s.execute(select(*cols)).all()), key=repr)
    return out


def story() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A province's phase 2 in events: two imports, development results (one late, one corrected),
    the June 2562 follow-up round and intent registrations.  Returns the envelopes and the people."""
    a1 = participant("2401", "cdd", "not_developed")
    a2 = participant("2401", "cdd", "not_developed")
    a3 = participant("2401", "moac", "not_developed")
    b1 = participant("2402", "baac", "low_income")
    # Import 1: 2401 cdd 3, 2401 moac 1, 2402 baac 2.  Import 2 (a corrected file): 2401 cdd 2
    # (one moved to 2402 cdd), 2402 cdd 1.
    imp1 = participants_changed(
        1,
        [
            count("2401", "cdd", "not_developed", 3, 3),
            count("2401", "moac", "not_developed", 1, 1),
            count("2402", "baac", "low_income", 2, 2),
        ],
        at(0),
    )
    imp2 = participants_changed(
        2,
        [count("2401", "cdd", "not_developed", -1, 2), count("2402", "cdd", "not_developed", 1, 1)],
        at(3),
        added=0,
    )
    corrected_id = next(_ids)
    evs = [
        imp1,
        imp2,
        development(a1, at(120), project=1, result="completed"),  # 1 Jun 2562
        development(a1, at(121), project=3, result="completed"),  # a second project, same person
        development(a2, at(122), project=1, result="declined", development_id=corrected_id),
        development(a2, at(130), project=1, result="completed", development_id=corrected_id, revision=2),
        development(a3, at(180), project=2, result="not_completed"),  # 31 Jul 2562: late
        development(b1, at(125), project=1, result="unreachable"),
        follow_up(a1, at(140)),
        follow_up(a3, at(141), progress="no_progress"),
        follow_up(b1, at(142), progress="income_above_threshold"),
        intent("2401", at(30)),
        intent("2401", at(30, 2), agency=None, place_id=None),
        intent("2402", at(31), agency="baac"),
    ]
    return evs, {"a1": a1, "a2": a2, "a3": a3, "b1": b1}
