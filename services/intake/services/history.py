"""The check before recording: a person's history in every district, with warnings."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.intake import domain
from services.intake.models import Case, Citizen, Programme, WelfareType
from services.intake.services.common import (
    PRIOR_COLUMNS,
    Actor,
    catalogue_entry,
    family_cases,
    load_welfare_type,
    prior_cases,
    programme_rule,
)
from shared.db import utcnow
from shared.districts import get_district
from shared.thai import mask_national_id

log = logging.getLogger(__name__)


def citizen_history(
    session: Session,
    *,
    national_id: str,
    actor: Actor,
    welfare_type_code: str | None = None,
    amount: Decimal | None = None,
    house_id: str | None = None,
    programme_code: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """A person's cases in every district and fiscal year, newest first, with warnings."""
    fy = domain.fiscal_year_of(now or utcnow())
    cases_t, types_t = Case.__table__.c, WelfareType.__table__.c
    rows = (
        session.connection()
        .execute(
            select(*PRIOR_COLUMNS, types_t.name_th)
            .join_from(Case.__table__, WelfareType.__table__, types_t.code == cases_t.welfare_type_code)
            .where(cases_t.national_id == national_id)
            .order_by(cases_t.recorded_at.desc())
        )
        .all()
    )
    cases = prior_cases([row[:-1] for row in rows])
    type_names = {row.welfare_type_code: row.name_th for row in rows}
    district_names = {c.district_code: _district_name(c.district_code) for c in cases}
    entry = family = None
    programmes: list[domain.ProgrammeRule] = []
    if welfare_type_code:
        wt = load_welfare_type(session, welfare_type_code)
        type_names[wt.code] = wt.name_th
        entry = catalogue_entry(wt)
        if house_id and entry.ceiling_scope == "per_family_fy":
            family = family_cases(session, house_id, fy)
        query = select(Programme).where(Programme.welfare_type_code == wt.code)
        if programme_code:
            query = select(Programme).where(Programme.code == programme_code)
        programmes = [programme_rule(p, type_names) for p in session.scalars(query)]
    warnings = domain.history_warnings(
        cases,
        fy=fy,
        district_names=district_names,
        type_names=type_names,
        entry=entry,
        amount=amount,
        family_cases=family,
        house_id=house_id,
        programmes=programmes,
    )
    citizen_id = session.scalar(select(Citizen.id).where(Citizen.national_id == national_id))
    # Who looked at whose history, for breach assessment (reliability D5); the person is named by
    # the surrogate id, never the national ID.  The answer shows no full record (no names, no
    # bank details, the ID masked), so it is logged rather than written to the audit chain.
    log.info(
        "history look-up by %s (%s, district %s) of citizen %s: %d case(s)",
        actor.username,
        actor.role,
        actor.district_code,
        citizen_id or "unknown",
        len(cases),
    )
    return {
        "national_id": mask_national_id(national_id),
        "fiscal_year": fy,
        "cases": [
            {
                "id": c.case_id,
                "case_no": c.case_no,
                "fiscal_year": c.fiscal_year,
                "district_code": c.district_code,
                "district_name": district_names[c.district_code],
                "welfare_type_code": c.welfare_type_code,
                "welfare_type_name": type_names.get(c.welfare_type_code),
                "amount": c.amount,
                "status": c.status,
                "status_th": domain.STATUS_TH[c.status],
                "recorded_at": c.recorded_at,
            }
            for c in cases
        ],
        "warnings": [{"code": w.code, "message": w.message} for w in warnings],
    }


def _district_name(code: str) -> str:
    district = get_district(code)
    return district.name_th if district else code
