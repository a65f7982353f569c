"""What the intake use cases share: the actor, loading rows for the rules, snapshots, history."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Date, Integer, String, TextClause, bindparam, insert, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from services.intake import domain
from services.intake.models import Case, CaseEvent, Citizen, Programme, WelfareType
from shared import audit
from shared.banks import ktb_receiving_fields, validate_bank_details
from shared.db import UTCDateTime, utcnow
from shared.districts import get_district
from shared.errors import ValidationError
from shared.money import money_str

PRODUCER = "intake"


@dataclass(frozen=True)
class Actor:
    """Who asks: a logged-in user, or another stage acting through an event."""

    username: str
    role: str | None
    district_code: str | None
    ip: str | None = None

    @property
    def is_city_wide(self) -> bool:
        """Central office and operators see every district."""
        return self.role in ("central_admin", "operator")

    def can_see(self, district_code: str) -> bool:
        """Whether a case of this district is visible to the actor."""
        return self.is_city_wide or district_code == self.district_code


def audit_case(session: Session, actor: Actor, *, action: str, case: Case, **kw: Any) -> None:
    """Audit an action on a case (field names and masked values only)."""
    audit.record(
        session,
        action=action,
        object_type="case",
        object_id=case.id,
        actor=actor.username,
        role=actor.role,
        district_code=case.district_code,
        ip=actor.ip,
        **kw,
    )


# --- loading -------------------------------------------------------------------------------------
def catalogue_entry(wt: WelfareType) -> domain.CatalogueEntry:
    """The rule view of a welfare type row."""
    return domain.CatalogueEntry(
        code=wt.code,
        name_th=wt.name_th,
        ceiling=wt.ceiling,
        ceiling_scope=wt.ceiling_scope,
        repeat_limit=wt.repeat_limit,
        active=wt.active,
    )


def programme_rule(p: Programme, type_names: Mapping[str, str] | None = None) -> domain.ProgrammeRule:
    """The rule view of a programme row."""
    return domain.ProgrammeRule(
        code=p.code,
        name_th=p.name_th,
        welfare_type_code=p.welfare_type_code,
        rule_code=p.rule_code,
        excluded_welfare_type_code=p.excluded_welfare_type_code,
        excluded_fiscal_year=p.excluded_fiscal_year,
        active=p.active,
        excluded_type_name=(type_names or {}).get(p.excluded_welfare_type_code, ""),
    )


_WELFARE_TYPE = select(*WelfareType.__table__.c).where(WelfareType.__table__.c.code == bindparam("code"))


def load_welfare_type(session: Session, code: str) -> Any:
    """A welfare type as a read-only row with the columns as attributes (plain Core: a hot path
    of every recording, which needs none of the ORM's identity-map work)."""
    wt = session.execute(_WELFARE_TYPE, {"code": code}).first()
    if wt is None:
        raise ValidationError(
            f"ไม่พบประเภทเงินสงเคราะห์ {code}", field="welfare_type_code", code="unknown_welfare_type"
        )
    return wt


def load_programme(session: Session, code: str) -> Programme:
    programme = session.get(Programme, code)
    if programme is None:
        raise ValidationError(f"ไม่พบโครงการ {code}", field="programme_code", code="unknown_programme")
    return programme


def check_district(code: str | None) -> str:
    if code is None or get_district(code) is None:
        raise ValidationError(
            f"ไม่พบสำนักงานเขตรหัส {code} ของผู้ใช้งาน", field="district_code", code="unknown_district"
        )
    return code


# Table columns rather than ORM attributes: these reads are plain Core statements, which skip the
# ORM's per-statement work (the history look-up is the hot path of the check).
_CASES = Case.__table__.c
PRIOR_COLUMNS = (
    _CASES.id,
    _CASES.case_no,
    _CASES.fiscal_year,
    _CASES.district_code,
    _CASES.welfare_type_code,
    _CASES.amount,
    _CASES.status,
    _CASES.recorded_at,
    _CASES.house_id,
)


def prior_cases(rows: Sequence[Any]) -> list[domain.PriorCase]:
    return [domain.PriorCase(*row) for row in rows]


def person_cases(session: Session, national_id: str) -> list[domain.PriorCase]:
    """Every case of a person, newest first (the indexed history query)."""
    rows = session.execute(
        select(*PRIOR_COLUMNS).where(_CASES.national_id == national_id).order_by(_CASES.recorded_at.desc())
    ).all()
    return prior_cases(rows)


def family_cases(session: Session, house_id: str, fy: int) -> list[domain.PriorCase]:
    """The cases of one house registration in one fiscal year."""
    rows = session.execute(
        select(*PRIOR_COLUMNS).where(_CASES.house_id == house_id, _CASES.fiscal_year == fy)
    ).all()
    return prior_cases(rows)


# Upserts as text: the same SQL works on PostgreSQL and SQLite (3.35+), and unlike the dialects'
# insert().on_conflict_do_update() constructs it is compiled once and cached.
_UPSERT_CITIZEN = text(
    "INSERT INTO citizens (national_id, id, title, first_name, last_name, birth_date, created_at, updated_at)"
    " VALUES (:national_id, :id, :title, :first_name, :last_name, :birth_date, :now, :now)"
    " ON CONFLICT (national_id) DO UPDATE SET title = excluded.title, first_name = excluded.first_name,"
    " last_name = excluded.last_name, birth_date = excluded.birth_date, updated_at = excluded.updated_at"
).bindparams(bindparam("birth_date", type_=Date()), bindparam("now", type_=UTCDateTime()))
_UPSERT_HOUSEHOLD = text(
    "INSERT INTO households (house_id, created_at, updated_at) VALUES (:house_id, :now, :now)"
    " ON CONFLICT (house_id) DO UPDATE SET updated_at = excluded.updated_at"
).bindparams(bindparam("now", type_=UTCDateTime()))
_NEXT_NUMBER = text(
    "INSERT INTO case_counters (fiscal_year, last_no) VALUES (:fy, 1)"
    " ON CONFLICT (fiscal_year) DO UPDATE SET last_no = case_counters.last_no + 1 RETURNING last_no"
)


def lock_citizen(session: Session, data: Mapping[str, Any], now: dt.datetime) -> None:
    """Create or refresh the person; the row stays locked until commit, so two recordings of
    the same person check their ceilings one after the other."""
    params = {k: data[k] for k in ("national_id", "title", "first_name", "last_name", "birth_date")}
    session.execute(_UPSERT_CITIZEN, {**params, "id": str(uuid.uuid4()), "now": now})


def lock_existing_citizen(session: Session, national_id: str) -> None:
    """Lock the person's row before re-checking the rules of an edit (same reason as above)."""
    session.execute(select(Citizen.national_id).where(Citizen.national_id == national_id).with_for_update())


def _lock_household(session: Session, house_id: str, now: dt.datetime) -> None:
    """Lock a house registration for the per-family ceiling (same idea as the citizen)."""
    session.execute(_UPSERT_HOUSEHOLD, {"house_id": house_id, "now": now})


def next_running_no(session: Session, fy: int) -> int:
    """The next case number of a fiscal year.

    The counter row stays locked until the recording commits, so concurrent recordings get
    consecutive numbers, and a rolled-back recording gives its number back: no gaps, no
    duplicates.
    """
    return int(session.execute(_NEXT_NUMBER, {"fy": fy}).scalar_one())


@cache
def _numbered_case_insert_pg(given: tuple[str, ...]) -> TextClause:
    """One PostgreSQL statement that takes the next number, inserts the case (columns ``given``
    plus the number) and its first history row (data-modifying CTEs), and answers the number
    and the case number.

    A recording holds the counter row from this statement to its commit, and every recording of
    the city queues on it: one round trip here instead of three shortens that queue.  Text (not
    ``on_conflict_do_update()``, which SQLAlchemy does not cache), built once per set of columns
    from the names the caller passes, quoted; every value is a bound parameter.  Columns not
    given keep their server defaults, as with any INSERT.
    """
    quote = postgresql.dialect().identifier_preparer.quote
    cases, history = Case.__table__.c, CaseEvent.__table__.c
    columns = ", ".join(quote(name) for name in given)
    params = ", ".join(f":{name}" for name in given)
    sql = (
        f"WITH next_no AS ({_NEXT_NUMBER.text}),"  # noqa: S608
        f" new_case AS (INSERT INTO cases ({columns}, case_no, running_no)"
        f" SELECT {params}, :case_no_prefix || next_no.last_no, next_no.last_no"
        " FROM next_no RETURNING id, case_no, running_no),"
        " first_event AS (INSERT INTO case_events (case_id, at, kind, status, by)"
        " SELECT new_case.id, :event_at, :event_kind, :event_status, :event_by FROM new_case)"
        " SELECT running_no, case_no FROM new_case"
    )
    return text(sql).bindparams(
        *[bindparam(name, type_=cases[name].type) for name in given],
        bindparam("fy", type_=Integer()),
        bindparam("case_no_prefix", type_=String()),
        bindparam("event_at", type_=history.at.type),
        bindparam("event_kind", type_=history.kind.type),
        bindparam("event_status", type_=history.status.type),
        bindparam("event_by", type_=history.by.type),
    )


def insert_numbered_case(
    session: Session, values: dict[str, Any], *, fy: int, kind: str, status: str, by: str, at: dt.datetime
) -> int:
    """Number a new case (``values`` gets ``running_no`` and ``case_no``), insert it with its
    first history row, and return the number.

    The fiscal year's counter row stays locked until the commit: concurrent recordings get
    consecutive numbers, and a rolled-back recording gives its number back (no gaps, no
    duplicates).  Callers run this as late as they can, just before the commit.
    """
    if session.get_bind(Case).dialect.name == "postgresql":
        params = {
            **values,
            "fy": fy,
            "case_no_prefix": domain.case_number_prefix(fy),
            "event_at": at,
            "event_kind": kind,
            "event_status": status,
            "event_by": by,
        }
        given = tuple(name for name in values if name not in ("case_no", "running_no"))
        running_no, case_no = session.execute(_numbered_case_insert_pg(given), params).one()
        values.update(running_no=running_no, case_no=case_no)
    else:
        running_no = next_running_no(session, fy)
        values.update(running_no=running_no, case_no=domain.case_number(fy, running_no))
        session.execute(insert(Case.__table__), values)
        event = {"case_id": values["id"], "kind": kind, "status": status, "by": by, "at": at}
        add_case_events(session, [event])
    return running_no


def parse_bank(data: Mapping[str, Any]) -> dict[str, Any]:
    try:
        code, branch, account = validate_bank_details(
            data["bank_code"], data.get("branch_code"), data["account_no"]
        )
        ktb_receiving_fields(code, branch, account)  # the account must fit KTB's transfer file (§7)
    except ValidationError as exc:
        raise ValidationError(exc.message, field=f"bank.{exc.field}", code=exc.code) from None
    return {
        "bank_code": code,
        "branch_code": branch,
        "account_name": data["account_name"],
        "account_no": account,
    }


def bank_of(case: Case) -> dict[str, Any]:
    """A case's bank details as a BankSnapshot."""
    return {
        "bank_code": case.bank_code,
        "branch_code": case.branch_code,
        "account_name": case.account_name,
        "account_no": case.account_no,
    }


def set_bank(case: Case, bank: Mapping[str, Any]) -> None:
    """Replace a case's bank details."""
    case.bank_code = bank["bank_code"]
    case.branch_code = bank.get("branch_code")
    case.account_name = bank["account_name"]
    case.account_no = bank["account_no"]


def case_snapshot(case: Case, wt: WelfareType) -> dict[str, Any]:
    """What the other stages know of a case (CaseSnapshot: no national ID)."""
    return {
        "case_id": case.id,
        "case_no": case.case_no,
        "fiscal_year": case.fiscal_year,
        "district_code": case.district_code,
        "title": case.title,
        "first_name": case.first_name,
        "last_name": case.last_name,
        "case_type": case.case_type,
        "welfare_type_code": case.welfare_type_code,
        "welfare_type_name": wt.name_th,
        "regulation_ref": wt.regulation_ref,
        "amount": money_str(case.amount),
        "registered_at": case.recorded_at.isoformat(),
    }


def locked_snapshot(case: Case, wt: WelfareType) -> dict[str, Any]:
    """The final snapshot sent in ``cases.locked`` (LockedCaseSnapshot: with bank and contacts)."""
    return {**case_snapshot(case, wt), "bank": bank_of(case), "phone": case.phone, "email": case.email}


def add_case_event(
    session: Session,
    case: Case,
    kind: str,
    *,
    status: str | None,
    by: str | None,
    at: dt.datetime | None = None,
    note: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Add an entry to a case's status history."""
    session.add(
        CaseEvent(
            case_id=case.id, kind=kind, status=status, by=by, at=at or utcnow(), note=note, details=details
        )
    )


def case_event_row(
    case_id: str,
    kind: str,
    *,
    status: str | None,
    by: str | None,
    at: dt.datetime,
    note: str | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One status-history row for :func:`add_case_events`."""
    return {
        "case_id": case_id,
        "kind": kind,
        "status": status,
        "by": by,
        "at": at,
        "note": note,
        "details": details,
    }


def add_case_events(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Add many status-history rows in one multi-row INSERT (a whole batch)."""
    if rows:
        session.execute(insert(CaseEvent.__table__), list(rows))


def check_rules(
    session: Session,
    *,
    wt: WelfareType,
    amount: Decimal,
    fy: int,
    national_id: str,
    house_id: str | None,
    programme_code: str | None,
    now: dt.datetime,
    exclude_case_id: str | None = None,
) -> None:
    """Lock the person (and the family), then check ceilings, repeat limits and the programme."""
    entry = catalogue_entry(wt)
    if house_id:
        _lock_household(session, house_id, now)
    own = person_cases(session, national_id)
    family = (
        family_cases(session, house_id, fy) if house_id and entry.ceiling_scope == "per_family_fy" else None
    )
    domain.check_entitlement(
        entry,
        amount=amount,
        fy=fy,
        person_cases=own,
        family_cases=family,
        house_id=house_id,
        exclude_case_id=exclude_case_id,
    )
    if programme_code:
        programme = load_programme(session, programme_code)
        others = [c for c in own if c.case_id != exclude_case_id]
        domain.check_programme(
            load_programme_rule(session, programme), welfare_type_code=wt.code, person_cases=others
        )


def load_programme_rule(session: Session, programme: Programme) -> domain.ProgrammeRule:
    excluded = session.get(WelfareType, programme.excluded_welfare_type_code)
    return programme_rule(programme, {excluded.code: excluded.name_th} if excluded else {})
