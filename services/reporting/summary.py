"""Management summaries: cases and amounts by status, welfare type, district, month and fiscal year.

Everything is read from ``rpt_summary_totals`` and ``rpt_daily_intake``, which the consumers
keep up to date, so a summary over a million cases reads a few thousand rows.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from services.reporting import domain
from services.reporting.domain import STATUS_NAMES, STATUS_RANK, share_percent
from services.reporting.models import RptBudget, RptDailyIntake, RptSummaryTotal, RptWelfareType
from shared.districts import get_district
from shared.money import from_satang, money_str

S = RptSummaryTotal
MEASURES = (
    "cases",
    "requested_amount",
    "approved_cases",
    "approved_amount",
    "paid_cases",
    "paid_amount",
    "failed_cases",
    "failed_amount",
)
_AMOUNTS = {"requested_amount", "approved_amount", "paid_amount", "failed_amount"}
_COLUMNS = dict(zip(MEASURES, domain.MEASURES, strict=True))  # answer name -> column


def _measure_columns() -> list[Any]:
    return [func.coalesce(func.sum(getattr(S, col)), 0).label(name) for name, col in _COLUMNS.items()]


def _measures(row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in MEASURES:
        value = int(getattr(row, name) or 0)
        out[name] = money_str(from_satang(value)) if name in _AMOUNTS else value
    return out


def _filters(model: Any, fiscal_year: int | None, district_code: str | None) -> list[ColumnElement[bool]]:
    where = []
    if fiscal_year is not None:
        where.append(model.fiscal_year == fiscal_year)
    if district_code is not None:
        where.append(model.district_code == district_code)
    return where


def _grouped(session: Session, dimension: str, column: Any, where: list[ColumnElement[bool]]) -> list[Any]:
    """Figures grouped by ``column`` over the rows of one dimension (every case is in each once)."""
    stmt = (
        select(column.label("k"), *_measure_columns())
        .where(S.dimension == dimension, *where)
        .group_by(column)
        .order_by(column)
    )
    return [r for r in session.execute(stmt).all() if r.cases]


def district_name(code: str) -> str:
    """The Thai name of a district (the code itself when unknown)."""
    district = get_district(code)
    return district.name_th if district else code


def summary(session: Session, *, fiscal_year: int | None, district_code: str | None) -> dict[str, Any]:
    """The management summary of one fiscal year (or all) and one district (or all)."""
    where = _filters(S, fiscal_year, district_code)
    totals = session.execute(select(*_measure_columns()).where(S.dimension == "status", *where)).one()
    names = dict(session.execute(select(RptWelfareType.code, RptWelfareType.name_th)).all())
    by_status = sorted(_grouped(session, "status", S.key, where), key=lambda r: STATUS_RANK.get(r.k, 99))
    return {
        "fiscal_year": fiscal_year,
        "district_code": district_code,
        "totals": _measures(totals),
        "by_status": [
            {"status": r.k, "status_name": STATUS_NAMES.get(r.k, r.k), **_measures(r)} for r in by_status
        ],
        "by_welfare_type": [
            {"welfare_type_code": r.k, "welfare_type_name": names.get(r.k, r.k), **_measures(r)}
            for r in _grouped(session, "welfare_type", S.key, where)
        ],
        "by_district": [
            {"district_code": r.k, "district_name": district_name(r.k), **_measures(r)}
            for r in _grouped(session, "status", S.district_code, where)
        ],
        "by_month": [{"month": r.k, **_measures(r)} for r in _grouped(session, "month", S.key, where)],
        "by_fiscal_year": [
            {"fiscal_year": r.k, **_measures(r)} for r in _grouped(session, "status", S.fiscal_year, where)
        ],
        "budgets": budgets(session, fiscal_year=fiscal_year, district_code=district_code),
        "daily_intake": daily_intake(session, fiscal_year=fiscal_year, district_code=district_code),
    }


def budgets(session: Session, *, fiscal_year: int | None, district_code: str | None) -> list[dict[str, Any]]:
    """Allocation, amount paid out and the share disbursed per (fiscal year, district)."""
    allocated = {
        (b.fiscal_year, b.district_code): b
        for b in session.scalars(select(RptBudget).where(*_filters(RptBudget, fiscal_year, district_code)))
    }
    paid_stmt = (
        select(S.fiscal_year, S.district_code, func.sum(S.paid_satang).label("paid"))
        .where(*_filters(S, fiscal_year, district_code), S.dimension == "status", S.key == "paid")
        .group_by(S.fiscal_year, S.district_code)
    )
    paid = {
        (r.fiscal_year, r.district_code): from_satang(int(r.paid or 0)) for r in session.execute(paid_stmt)
    }
    out = []
    for key in sorted(set(allocated) | set(paid)):
        budget = allocated.get(key)
        amount: Decimal | None = budget.amount if budget is not None else None
        disbursed = paid.get(key, Decimal("0.00"))
        share = share_percent(disbursed, amount)
        out.append(
            {
                "fiscal_year": key[0],
                "district_code": key[1],
                "district_name": district_name(key[1]),
                "allocated_amount": money_str(amount) if amount is not None else None,
                "disbursed_amount": money_str(disbursed),
                "share_disbursed": f"{share:.2f}" if share is not None else None,
                "updated_at": budget.updated_at if budget is not None else None,
                "updated_by": budget.updated_by if budget is not None else None,
            }
        )
    return out


def daily_intake(
    session: Session, *, fiscal_year: int | None, district_code: str | None
) -> list[dict[str, Any]]:
    """Cases registered per Bangkok calendar day."""
    stmt = (
        select(RptDailyIntake.day, func.sum(RptDailyIntake.case_count).label("cases"))
        .where(*_filters(RptDailyIntake, fiscal_year, district_code))
        .group_by(RptDailyIntake.day)
        .order_by(RptDailyIntake.day)
    )
    return [{"date": r.day, "cases": int(r.cases)} for r in session.execute(stmt) if r.cases]
