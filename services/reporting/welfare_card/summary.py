"""The measure's MIS summary: participants by province, district, agency, group and project; developed
vs not yet; late and missing development records; follow-up coverage per round; daily recording.

Everything is read from the aggregate tables the consumers keep (a few thousand rows per province
whatever the number of participants), folded in Python per (area, agency, group) key.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from services.reporting.welfare_card.models import (
    RptWcDaily,
    RptWcDeadline,
    RptWcDevelopedTotal,
    RptWcDevelopmentTotal,
    RptWcFollowUpTotal,
    RptWcIntent,
    RptWcParticipantTotal,
    RptWcProject,
)
from services.reporting.welfare_card.services import BANGKOK
from shared.areas import get_area, get_province
from shared.welfare_card import (
    AGENCIES,
    DEFAULT_PHASES,
    DEFAULT_ROUNDS,
    GROUPS,
    PROGRESS,
    PROJECT_KINDS,
    RESULTS,
)

AGENCY_NAMES = {a.code: a.name_th for a in AGENCIES}
#: Measures of every breakdown row (intents have no group: 0 in ``by_group``).
MEASURES = (
    "participants",
    "developed",
    "not_developed",
    "recorded",
    "not_recorded",
    "development_records",
    "late_records",
    "missing_records",
    "intents",
)
DAILY_KINDS = ("participants", "developments", "follow_ups", "intents")
THAI_MONTHS = (
    "มกราคม",
    "กุมภาพันธ์",
    "มีนาคม",
    "เมษายน",
    "พฤษภาคม",
    "มิถุนายน",
    "กรกฎาคม",
    "สิงหาคม",
    "กันยายน",
    "ตุลาคม",
    "พฤศจิกายน",
    "ธันวาคม",
)

Key = tuple[str, str, str, str]  # province, area, agency, group


def today_in_bangkok() -> dt.date:
    """Today on Bangkok's calendar."""
    return dt.datetime.now(BANGKOK).date()


def province_name(code: str | None) -> str:
    province = get_province(code)
    return province.name_th if province else (code or "")


def area_name(code: str | None) -> str:
    """ "เขตพระนคร", "อำเภอบางคล้า" — the code itself when unknown."""
    area = get_area(code)
    return area.full_name_th if area else (code or "")


def round_name(code: str) -> str:
    """``2019-06`` → "รอบเดือนมิถุนายน 2562" (the configured name when the round is configured)."""
    configured = next((r.name_th for r in DEFAULT_ROUNDS if r.code == code), None)
    if configured:
        return configured
    year, month = (int(p) for p in code.split("-"))
    return f"รอบเดือน{THAI_MONTHS[month - 1]} {year + 543}"


def percent(part: int, whole: int) -> str | None:
    """``part`` of ``whole`` in per cent with 2 decimals ("12.50"); None when ``whole`` is 0."""
    if whole <= 0:
        return None
    return f"{(Decimal(part) * 100 / Decimal(whole)).quantize(Decimal('0.01'))}"


@dataclass(frozen=True)
class Filter:
    """What a summary covers: all of Thailand, a province, a district; all agencies or one."""

    province_code: str | None = None
    area_code: str | None = None
    agency: str | None = None

    def where(self, model: Any) -> list[ColumnElement[bool]]:
        out = []
        for name in ("province_code", "area_code", "agency"):
            value = getattr(self, name)
            if value is not None:
                out.append(getattr(model, name) == value)
        return out


# --- deadlines -----------------------------------------------------------------------------------------
def deadlines(session: Session, *, today: dt.date, rounds: Iterable[str]) -> dict[str, Any]:
    """The recording deadlines in force: from intake's latest events, else the configured defaults."""
    seen = dict(session.execute(select(RptWcDeadline.phase, RptWcDeadline.record_by)).all())
    phase = next(p for p in DEFAULT_PHASES if p.code == "development")
    record_by = seen.get("development") or phase.record_by
    development = {
        "phase": phase.code,
        "name": phase.name_th,
        "due": phase.due,
        "record_by": record_by,
        "passed": record_by is not None and today > record_by,
    }
    out_rounds = []
    for code in sorted(set(rounds) | {r.code for r in DEFAULT_ROUNDS}):
        configured = next((r for r in DEFAULT_ROUNDS if r.code == code), None)
        by = seen.get(f"follow_up:{code}") or (configured.record_by if configured else None)
        out_rounds.append(
            {
                "round": code,
                "round_name": round_name(code),
                "due": configured.due if configured else None,
                "record_by": by,
                "passed": by is not None and today > by,
            }
        )
    return {"development": development, "follow_up_rounds": out_rounds}


# --- the summary ---------------------------------------------------------------------------------------
def _key_figures(session: Session, scope: Filter) -> dict[Key, dict[str, int]]:
    """participants, recorded, developed, development_records, late_records per (area, agency, group)."""
    figures: dict[Key, dict[str, int]] = defaultdict(lambda: dict.fromkeys(MEASURES, 0))
    p = RptWcParticipantTotal
    stmt = select(p.province_code, p.area_code, p.agency, p.group_code, p.participants).where(
        *scope.where(p), p.participants > 0
    )
    for r in session.execute(stmt):
        figures[(r[0], r[1], r[2], r[3])]["participants"] += r[4]
    d = RptWcDevelopedTotal
    stmt = select(d.province_code, d.area_code, d.agency, d.group_code, d.recorded, d.developed).where(
        *scope.where(d)
    )
    for r in session.execute(stmt):
        row = figures[(r[0], r[1], r[2], r[3])]
        row["recorded"] += r[4]
        row["developed"] += r[5]
    t = RptWcDevelopmentTotal
    keys = (t.province_code, t.area_code, t.agency, t.group_code)
    stmt = select(*keys, func.sum(t.records), func.sum(t.late_records)).where(*scope.where(t)).group_by(*keys)
    for r in session.execute(stmt):
        row = figures[(r[0], r[1], r[2], r[3])]
        row["development_records"] += int(r[4] or 0)
        row["late_records"] += int(r[5] or 0)
    return figures


def _derive(row: dict[str, int], *, passed: bool) -> None:
    """Fill the measures that follow from the counted ones (per key, before any roll-up)."""
    row["not_developed"] = max(row["participants"] - row["developed"], 0)
    row["not_recorded"] = max(row["participants"] - row["recorded"], 0)
    row["missing_records"] = row["not_recorded"] if passed else 0


def _roll_up(rows: Iterable[tuple[Any, dict[str, int]]]) -> dict[Any, dict[str, int]]:
    out: dict[Any, dict[str, int]] = defaultdict(lambda: dict.fromkeys(MEASURES, 0))
    for key, figures in rows:
        target = out[key]
        for m in MEASURES:
            target[m] += figures[m]
    return out


def _intents(session: Session, scope: Filter) -> list[Any]:
    i = RptWcIntent
    return list(
        session.execute(
            select(i.province_code, i.area_code, i.agency, func.count())
            .where(*scope.where(i))
            .group_by(i.province_code, i.area_code, i.agency)
        )
    )


def _by_project(session: Session, scope: Filter) -> list[dict[str, Any]]:
    t = RptWcDevelopmentTotal
    stmt = (
        select(t.project_id, t.result, func.sum(t.records), func.sum(t.late_records))
        .where(*scope.where(t))
        .group_by(t.project_id, t.result)
    )
    projects: dict[int, dict[str, Any]] = {}
    for project_id, result, records, late in session.execute(stmt):
        row = projects.setdefault(
            project_id, {"records": 0, "late_records": 0, **{f"result_{k}": 0 for k in RESULTS}}
        )
        row["records"] += int(records or 0)
        row["late_records"] += int(late or 0)
        row[f"result_{result}"] = row.get(f"result_{result}", 0) + int(records or 0)
    if not projects:
        return []
    names = {
        p.project_id: p
        for p in session.scalars(select(RptWcProject).where(RptWcProject.project_id.in_(list(projects))))
    }
    out = []
    for project_id, figures in projects.items():
        p = names.get(project_id)
        kind = p.kind if p else ""
        out.append(
            {
                "project_id": project_id,
                "project_name": p.name if p else str(project_id),
                "project_kind": kind,
                "project_kind_name": PROJECT_KINDS.get(kind, kind),
                "project_agency": p.agency if p else None,
                "project_agency_name": AGENCY_NAMES.get(p.agency or "", "") if p else "",
                "project_province_code": p.province_code if p else None,
                "project_province_name": province_name(p.province_code) if p and p.province_code else "",
                **figures,
            }
        )
    return sorted(out, key=lambda r: (r["project_kind"], r["project_agency"] or "", r["project_name"]))


def _follow_up(
    session: Session,
    scope: Filter,
    participants_by_area: dict[tuple[str, str], int],
    rounds: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    f = RptWcFollowUpTotal
    stmt = (
        select(f.round, f.province_code, f.area_code, f.progress, func.sum(f.participants), func.sum(f.late))
        .where(*scope.where(f))
        .group_by(f.round, f.province_code, f.area_code, f.progress)
    )
    data: dict[str, dict[tuple[str, str], dict[str, int]]] = defaultdict(dict)
    progress: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(PROGRESS, 0))
    for code, prov, area, prog, followed, late in session.execute(stmt):
        row = data[code].setdefault((prov, area), {"followed_up": 0, "late": 0})
        row["followed_up"] += int(followed or 0)
        row["late"] += int(late or 0)
        progress[code][prog] = progress[code].get(prog, 0) + int(followed or 0)
    out = []
    for r in rounds:
        code = r["round"]
        areas = []
        for key in sorted(set(participants_by_area) | set(data.get(code, {}))):
            participants = participants_by_area.get(key, 0)
            seen = data.get(code, {}).get(key, {"followed_up": 0, "late": 0})
            not_followed = max(participants - seen["followed_up"], 0)
            areas.append(
                {
                    "province_code": key[0],
                    "province_name": province_name(key[0]),
                    "area_code": key[1],
                    "area_name": area_name(key[1]),
                    "participants": participants,
                    "followed_up": seen["followed_up"],
                    "not_followed_up": not_followed,
                    "late": seen["late"],
                    "missing": not_followed if r["passed"] else 0,
                    "coverage_percent": percent(seen["followed_up"], participants),
                }
            )
        total = {
            m: sum(a[m] for a in areas) for m in ("participants", "followed_up", "not_followed_up", "late")
        }
        total["missing"] = sum(a["missing"] for a in areas)
        out.append(
            {
                **r,
                **total,
                "coverage_percent": percent(total["followed_up"], total["participants"]),
                "by_progress": [
                    {"progress": k, "progress_name": PROGRESS.get(k, k), "participants": v}
                    for k, v in progress.get(code, dict.fromkeys(PROGRESS, 0)).items()
                ],
                "by_area": areas,
            }
        )
    return out


def _daily(session: Session, scope: Filter) -> tuple[list[Any], list[Any]]:
    d = RptWcDaily
    stmt = (
        select(d.day, d.agency, d.kind, func.sum(d.count))
        .where(*scope.where(d))
        .group_by(d.day, d.agency, d.kind)
    )
    days: dict[dt.date, dict[str, int]] = defaultdict(lambda: dict.fromkeys(DAILY_KINDS, 0))
    by_agency: dict[tuple[dt.date, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(DAILY_KINDS, 0))
    for day, agency, kind, count in session.execute(stmt):
        if kind not in DAILY_KINDS:
            continue
        days[day][kind] += int(count or 0)
        by_agency[(day, agency)][kind] += int(count or 0)
    daily = [{"date": day, **figures} for day, figures in sorted(days.items()) if any(figures.values())]
    daily_agency = [
        {"date": day, "agency": agency, "agency_name": AGENCY_NAMES.get(agency, "ไม่ระบุหน่วยงาน"), **figures}
        for (day, agency), figures in sorted(by_agency.items())
        if any(figures.values())
    ]
    return daily, daily_agency


def summary(
    session: Session,
    *,
    province_code: str | None = None,
    area_code: str | None = None,
    agency: str | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """The measure's summary for all of Thailand, one province or one district (one agency or all)."""
    today = today or today_in_bangkok()
    scope = Filter(province_code, area_code, agency)
    f = RptWcFollowUpTotal
    seen_rounds = [r for (r,) in session.execute(select(f.round).where(*scope.where(f)).group_by(f.round))]
    due = deadlines(session, today=today, rounds=seen_rounds)
    passed = due["development"]["passed"]
    figures = _key_figures(session, scope)
    for row in figures.values():
        _derive(row, passed=passed)
    intents = _intents(session, scope)
    for prov, area, agency, count in intents:
        figures[(prov, area, agency, "")]["intents"] += count  # no group: counted in totals, not in groups

    by_province = _roll_up((k[0], v) for k, v in figures.items())
    by_area = _roll_up(((k[0], k[1]), v) for k, v in figures.items())
    by_agency = _roll_up((k[2], v) for k, v in figures.items())
    by_group = _roll_up((k[3], v) for k, v in figures.items() if k[3])
    totals = _roll_up(("all", v) for v in figures.values()).get("all", dict.fromkeys(MEASURES, 0))
    participants_by_area = {k: v["participants"] for k, v in by_area.items() if v["participants"]}
    daily, daily_by_agency = _daily(session, scope)

    def measures(row: dict[str, int]) -> dict[str, Any]:
        return {
            **row,
            "developed_percent": percent(row["developed"], row["participants"]),
            "recorded_percent": percent(row["recorded"], row["participants"]),
        }

    return {
        "province_code": province_code,
        "province_name": province_name(province_code) if province_code else None,
        "area_code": area_code,
        "area_name": area_name(area_code) if area_code else None,
        "agency": agency,
        "agency_name": AGENCY_NAMES.get(agency) if agency else None,
        "as_of": today,
        "deadlines": due,
        "totals": measures(totals),
        "by_province": [
            {"province_code": k, "province_name": province_name(k), **measures(v)}
            for k, v in sorted(by_province.items())
        ],
        "by_area": [
            {
                "province_code": k[0],
                "province_name": province_name(k[0]),
                "area_code": k[1],
                "area_name": area_name(k[1]),
                **measures(v),
            }
            for k, v in sorted(by_area.items())
        ],
        "by_agency": [
            {"agency": k, "agency_name": AGENCY_NAMES.get(k, "ไม่ระบุหน่วยงาน"), **measures(v)}
            for k, v in sorted(by_agency.items(), key=lambda kv: _agency_order(kv[0]))
        ],
        "by_group": [
            {"group": k, "group_name": GROUPS.get(k, k), **measures(v)}
            for k, v in sorted(
                by_group.items(), key=lambda kv: list(GROUPS).index(kv[0]) if kv[0] in GROUPS else 9
            )
        ],
        "by_project": _by_project(session, scope),
        "by_result": _by_result(session, scope),
        "follow_up_rounds": _follow_up(session, scope, participants_by_area, due["follow_up_rounds"]),
        "daily": daily,
        "daily_by_agency": daily_by_agency,
    }


def _agency_order(code: str) -> int:
    order = [a.code for a in AGENCIES]
    return order.index(code) if code in order else len(order)


def _by_result(session: Session, scope: Filter) -> list[dict[str, Any]]:
    t = RptWcDevelopmentTotal
    stmt = (
        select(t.result, func.sum(t.records), func.sum(t.late_records))
        .where(*scope.where(t))
        .group_by(t.result)
    )
    found = {r: (int(n or 0), int(late or 0)) for r, n, late in session.execute(stmt)}
    return [
        {
            "result": code,
            "result_name": name,
            "records": found.get(code, (0, 0))[0],
            "late_records": found.get(code, (0, 0))[1],
        }
        for code, name in RESULTS.items()
    ]
