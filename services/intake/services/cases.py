"""Check, record, read, find and edit cases."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from services.intake import domain
from services.intake.domain import NotFound, RuleBroken, StateConflict
from services.intake.models import Case, CaseDocument, CaseEvent, HomeVisit, WelfareType
from services.intake.services.common import (
    PRODUCER,
    Actor,
    add_case_event,
    audit_case,
    bank_of,
    case_snapshot,
    catalogue_entry,
    check_district,
    check_rules,
    family_cases,
    insert_numbered_case,
    load_programme,
    load_programme_rule,
    load_welfare_type,
    lock_citizen,
    lock_existing_citizen,
    parse_bank,
    person_cases,
    set_bank,
)
from shared import messaging
from shared.audit import AuditEntry
from shared.db import utcnow
from shared.money import money_str


# --- record --------------------------------------------------------------------------------------
def record_case(
    session: Session, *, data: Mapping[str, Any], actor: Actor, now: dt.datetime | None = None
) -> Case:
    """Record a case for the actor's district (บันทึกข้อมูลเคส) and publish ``case.registered``.

    ``data`` is the validated body of ``POST /cases``.

    :raises ValidationError: unknown district, welfare type, bank or programme; bad birth date.
    :raises RuleBroken: a ceiling, repeat limit or programme rule.
    """
    now = now or utcnow()
    today = domain.bangkok_date(now)
    fy = domain.fiscal_year_of(now)
    district_code = check_district(actor.district_code)
    wt = load_welfare_type(session, data["welfare_type_code"])
    age = domain.age_at_recording(data["birth_date"], today)
    bank = parse_bank(data["bank"])
    house_id = data.get("house_id")
    lock_citizen(session, data, now)
    check_rules(
        session,
        wt=wt,
        amount=data["amount"],
        fy=fy,
        national_id=data["national_id"],
        house_id=house_id,
        programme_code=data.get("programme_code"),
        now=now,
    )
    values: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "fiscal_year": fy,
        "district_code": district_code,
        "national_id": data["national_id"],
        "title": data["title"],
        "sex": data["sex"],
        "first_name": data["first_name"],
        "last_name": data["last_name"],
        "birth_date": data["birth_date"],
        "age": age,
        "disabled": data["disabled"],
        "case_type": domain.case_type_for(data["disabled"]),
        "house_id": house_id,
        "welfare_type_code": wt.code,
        "programme_code": data.get("programme_code"),
        "amount": data["amount"],
        "hardship": data["hardship"],
        "phone": data.get("phone"),
        "email": data.get("email"),
        "status": "registered",
        "status_reason": None,
        "locked_batch_id": None,
        "locked_at": None,
        "recorded_at": now,
        "recorded_by": actor.username,
        "updated_at": now,
        **bank,
    }
    # From here the fiscal year's counter row stays locked until the commit, and every recording
    # of the city waits for it: only the statements that need the number run while it is held.
    insert_numbered_case(
        session, values, fy=fy, kind="registered", status="registered", by=actor.username, at=now
    )
    case = Case(**values)  # what the caller answers with (the row is already written)
    messaging.publish(session, "case.registered", case_snapshot(case, wt), producer=PRODUCER)
    audit_case(
        session,
        actor,
        action="case.record",
        case=case,
        fields=sorted(data),
        after={"case_no": case.case_no, "welfare_type_code": wt.code, "amount": money_str(case.amount)},
    )
    return case


# --- read ----------------------------------------------------------------------------------------
def get_case(session: Session, case_id: str, actor: Actor, *, for_update: bool = False) -> Case:
    """A case the actor may see (another district's case is "not found").

    :raises NotFound: no such case, or not the actor's district.
    """
    try:
        uuid.UUID(case_id)
    except ValueError:
        raise NotFound("ไม่พบเคสที่ต้องการ", code="case_not_found") from None
    case = session.get(Case, case_id, with_for_update=for_update or None)
    if case is None or not actor.can_see(case.district_code):
        raise NotFound("ไม่พบเคสที่ต้องการ", code="case_not_found")
    return case


def case_detail(session: Session, case: Case, actor: Actor) -> CaseDetail:
    """Everything about one case: documents (all versions), home visits, history, audit trail.

    The detail shows the national ID and the account number in full, so every read of it is
    audited (reliability D1/D3: unmasking one record at a time).
    """
    audit_case(session, actor, action="case.read", case=case, fields=["national_id", "bank"])
    wt = session.get(WelfareType, case.welfare_type_code)
    documents = session.scalars(
        select(CaseDocument).where(CaseDocument.case_id == case.id).order_by(CaseDocument.id)
    ).all()
    visits = session.scalars(
        select(HomeVisit).where(HomeVisit.case_id == case.id).order_by(HomeVisit.id)
    ).all()
    history = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
    ).all()
    trail = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.object_type == "case", AuditEntry.object_id == case.id)
        .order_by(AuditEntry.seq)
    ).all()
    required = [k for k in (wt.required_documents if wt else "").split(",") if k]
    current = {d.kind for d in documents if d.replaced_at is None}
    return CaseDetail(
        case,
        welfare_type_name=wt.name_th if wt else None,
        regulation_ref=wt.regulation_ref if wt else None,
        documents=documents,
        missing_documents=[k for k in required if k not in current],
        home_visits=visits,
        history=history,
        audit_trail=trail,
    )


class CaseDetail:
    """A case with what its detail page shows; reads through to the case's own fields."""

    def __init__(self, case: Case, **extra: Any) -> None:
        self.case = case
        self.__dict__.update(extra)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.case, name)


@dataclass(frozen=True)
class CaseQuery:
    """Filters of the case list."""

    status: str | None = None
    fiscal_year: int | None = None
    q: str | None = None
    welfare_type_code: str | None = None
    national_id: str | None = None
    district_code: str | None = None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def find_cases(
    session: Session, *, query: CaseQuery, actor: Actor, page: int, per_page: int
) -> tuple[Sequence[Case], int]:
    """Cases matching the filters, newest first, limited to the actor's district."""
    stmt: Select[Any] = select(Case)
    district = None if actor.is_city_wide else actor.district_code
    if district is None and query.district_code:
        district = query.district_code
    if district is not None:
        stmt = stmt.where(Case.district_code == district)
    if query.status:
        stmt = stmt.where(Case.status == query.status)
    if query.fiscal_year:
        stmt = stmt.where(Case.fiscal_year == query.fiscal_year)
    if query.welfare_type_code:
        stmt = stmt.where(Case.welfare_type_code == query.welfare_type_code)
    if query.national_id:
        stmt = stmt.where(Case.national_id == query.national_id)
    if query.q:
        for term in query.q.split():
            if domain.parse_case_number(term):
                stmt = stmt.where(Case.case_no == term)
                continue
            like = f"%{_escape_like(term)}%"
            stmt = stmt.where(
                or_(
                    Case.first_name.ilike(like, escape="\\"),
                    Case.last_name.ilike(like, escape="\\"),
                    Case.case_no.ilike(like, escape="\\"),
                )
            )
    total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    items = session.scalars(
        stmt.order_by(Case.recorded_at.desc(), Case.id).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return items, total


# --- edit ----------------------------------------------------------------------------------------
_RULE_FIELDS = frozenset({"welfare_type_code", "amount", "house_id", "programme_code"})
_PLAIN_FIELDS = (
    "title",
    "sex",
    "first_name",
    "last_name",
    "birth_date",
    "disabled",
    "house_id",
    "welfare_type_code",
    "programme_code",
    "amount",
    "hardship",
    "phone",
    "email",
)


def update_case(
    session: Session,
    *,
    case_id: str,
    changes: Mapping[str, Any],
    actor: Actor,
    now: dt.datetime | None = None,
) -> Case:
    """Edit a case; once locked into an approval batch only bank details, phone and e-mail.

    Publishes ``case.updated`` naming the changed fields (``bank`` only when it changed).

    :raises NotFound: not the actor's case.
    :raises StateConflict: locked or closed case.
    :raises RuleBroken: the new welfare type or amount breaks a rule.
    """
    now = now or utcnow()
    if "national_id" in changes:
        raise RuleBroken(
            "แก้ไขเลขประจำตัวประชาชนของเคสไม่ได้ หากบันทึกผิดคน ให้บันทึกเคสใหม่",
            code="national_id_not_editable",
            field="national_id",
        )
    case = get_case(session, case_id, actor, for_update=True)
    new: dict[str, Any] = {}
    for name in _PLAIN_FIELDS:
        if name in changes and changes[name] != getattr(case, name):
            new[name] = changes[name]
    if "bank" in changes:
        bank = parse_bank(changes["bank"])
        if bank != bank_of(case):
            new["bank"] = bank
    if not new:
        return case
    if case.status in domain.FINAL_STATUSES:
        raise StateConflict(
            f"เคสนี้สิ้นสุดแล้ว (สถานะ {domain.STATUS_TH[case.status]}) แก้ไขไม่ได้", code="case_closed"
        )
    if case.locked_batch_id:
        refusal = domain.locked_change_refusal(new)
        if refusal:
            raise StateConflict(refusal, code="case_locked")
    if "birth_date" in new:
        domain.age_at_recording(new["birth_date"], domain.bangkok_date(case.recorded_at))
    wt = load_welfare_type(session, new.get("welfare_type_code", case.welfare_type_code))
    if _RULE_FIELDS & set(new):
        lock_existing_citizen(session, case.national_id)
        check_rules(
            session,
            wt=wt,
            amount=new.get("amount", case.amount),
            fy=case.fiscal_year,
            national_id=case.national_id,
            house_id=new.get("house_id", case.house_id),
            programme_code=new.get("programme_code", case.programme_code),
            now=now,
            exclude_case_id=case.id,
        )
    before = {
        name: domain.masked_value(name, bank_of(case) if name == "bank" else getattr(case, name))
        for name in new
    }
    for name, value in new.items():
        if name == "bank":
            set_bank(case, value)
        else:
            setattr(case, name, value)
    if "birth_date" in new:
        case.age = domain.age_at_recording(case.birth_date, domain.bangkok_date(case.recorded_at))
    if "disabled" in new:
        case.case_type = domain.case_type_for(case.disabled)
    case.updated_at = now
    changed = sorted(new)
    add_case_event(
        session, case, "updated", status=None, by=actor.username, at=now, details={"changed": changed}
    )
    payload = {**case_snapshot(case, wt), "changed": changed, "status": case.status}
    if "bank" in new:
        payload["bank"] = bank_of(case)
    messaging.publish(session, "case.updated", payload, producer=PRODUCER)
    audit_case(
        session,
        actor,
        action="case.update",
        case=case,
        fields=changed,
        before=before,
        after={name: domain.masked_value(name, value) for name, value in new.items()},
    )
    session.flush()
    return case


def check_amendment(
    session: Session, *, case_id: str, welfare_type_code: str, amount: Decimal, actor: Actor
) -> WelfareType:
    """Whether the committee may change a case to this type and amount (the case itself excluded).

    Returns the welfare type: its name and regulation reference travel with the amendment.

    :raises RuleBroken: the change breaks a ceiling, repeat limit or the case's programme.
    """
    case = get_case(session, case_id, actor)
    wt = load_welfare_type(session, welfare_type_code)
    entry = catalogue_entry(wt)
    own = person_cases(session, case.national_id)
    family = (
        family_cases(session, case.house_id, case.fiscal_year)
        if case.house_id and entry.ceiling_scope == "per_family_fy"
        else None
    )
    domain.check_entitlement(
        entry,
        amount=amount,
        fy=case.fiscal_year,
        person_cases=own,
        family_cases=family,
        house_id=case.house_id,
        exclude_case_id=case.id,
    )
    if case.programme_code:
        programme = load_programme(session, case.programme_code)
        others = [c for c in own if c.case_id != case.id]
        domain.check_programme(
            load_programme_rule(session, programme), welfare_type_code=wt.code, person_cases=others
        )
    return wt
