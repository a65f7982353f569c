"""Approval's use cases: the agenda, the committee's decisions and meetings.

Every function takes the caller's session, flushes but never commits, publishes events through
the outbox (``shared.messaging.publish``) and audits state changes (``shared.audit.record``), so
the change, its events and its audit rows commit together or not at all.  The batch saga is in
``services.approval.batches``.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from services.approval.domain import (
    AgendaStatus,
    BatchStatus,
    Conflict,
    DomainError,
    NotFound,
    batch_fiscal_year,
    check_can_amend,
    check_can_defer,
    check_can_disqualify,
    check_can_restore,
    clean_reason,
    total_of,
)
from services.approval.models import AgendaItem, Batch, Meeting
from shared import audit
from shared.db import utcnow
from shared.messaging import publish
from shared.money import money_str

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from services.approval.intake_client import AmendmentCheck

log = logging.getLogger(__name__)

PRODUCER = "approval"
SYSTEM_ACTOR = "system:approval"
#: What the committee may change; intake's later edits override it only when they are newer.
COMMITTEE_FIELDS = ("welfare_type_code", "welfare_type_name", "regulation_ref", "amount")
SNAPSHOT_FIELDS = (
    "case_no",
    "fiscal_year",
    "title",
    "first_name",
    "last_name",
    "case_type",
    "welfare_type_code",
    "welfare_type_name",
    "regulation_ref",
    "amount",
)


@dataclass(frozen=True)
class Actor:
    """Who does something: from the token (people) or the worker (events)."""

    username: str
    role: str | None
    district_code: str | None
    ip: str | None = None


@dataclass
class AgendaView:
    """A district's current agenda: its cases, their count and total."""

    district_code: str
    items: list[AgendaItem]
    count: int
    total_amount: Decimal
    closing: Batch | None = None


@dataclass
class AmendmentPlan:
    """A committee amendment checked against approval's state, before intake is asked."""

    case_id: str
    version: int
    welfare_type_code: str
    amount: Decimal
    changed: list[str] = field(default_factory=list)


# --- helpers -------------------------------------------------------------------------------------
def _visible(district_code: str, district_filter: str | None) -> bool:
    return district_filter is None or district_code == district_filter


def _load_item(session: Session, case_id: str, district_filter: str | None, *, lock: bool) -> AgendaItem:
    stmt = select(AgendaItem).where(AgendaItem.case_id == case_id)
    if lock:
        # Serialises decisions with a concurrent closing (PostgreSQL re-reads the locked row).
        stmt = stmt.with_for_update()
    item = session.scalars(stmt).first()
    if item is None or not _visible(item.district_code, district_filter):
        raise NotFound("ไม่พบเคสนี้ในรายการของสำนักงานเขต", code="case_not_found")
    return item


def _decision_state(item: AgendaItem) -> dict[str, Any]:
    return {
        "status": item.status,
        "batch_id": item.batch_id,
        "welfare_type_code": item.welfare_type_code,
        "amount": money_str(item.amount),
        "disqualify_reason": item.disqualify_reason,
    }


def _audit_item(
    session: Session,
    action: str,
    item: AgendaItem,
    actor: Actor,
    fields: Sequence[str],
    before: Mapping[str, Any],
) -> None:
    after = _decision_state(item)
    audit.record(
        session,
        action=action,
        object_type="case",
        object_id=item.case_id,
        actor=actor.username,
        role=actor.role,
        district_code=item.district_code,
        ip=actor.ip,
        fields=fields,
        before={k: before[k] for k in fields},
        after={k: after[k] for k in fields},
    )


def _case_ref(item: AgendaItem, actor: Actor, at: dt.datetime) -> dict[str, Any]:
    return {
        "case_id": item.case_id,
        "district_code": item.district_code,
        "at": at.isoformat(),
        "by": actor.username,
    }


def _apply_snapshot(item: AgendaItem, snapshot: Mapping[str, Any]) -> None:
    for name in SNAPSHOT_FIELDS:
        setattr(item, name, snapshot[name])


# --- the agenda (case.registered / case.updated) ---------------------------------------------------
def place_on_agenda(session: Session, *, snapshot: Mapping[str, Any], occurred_at: dt.datetime) -> bool:
    """Put a newly registered case on its district's agenda; False if it is already there.

    A batch of the district being locked right now does not take the new case: it was fixed
    when the agenda was closed, so the case waits for the next agenda.
    """
    if session.get(AgendaItem, snapshot["case_id"]) is not None:
        return False
    now = utcnow()
    item = AgendaItem(
        case_id=snapshot["case_id"],
        district_code=snapshot["district_code"],
        registered_at=snapshot["registered_at"],
        status=AgendaStatus.ON_AGENDA,
        snapshot_at=occurred_at,
        created_at=now,
        updated_at=now,
        version=1,
    )
    _apply_snapshot(item, snapshot)
    session.add(item)
    session.flush()
    system = Actor(SYSTEM_ACTOR, None, item.district_code)
    _audit_item(session, "case.place_on_agenda", item, system, ("status",), {"status": None})
    publish(session, "case.placed_on_agenda", _case_ref(item, system, now), producer=PRODUCER)
    return True


def refresh_case(
    session: Session, *, snapshot: Mapping[str, Any], occurred_at: dt.datetime, status: str | None = None
) -> AgendaItem | None:
    """Take an officer's edit of a case (``case.updated``) into the agenda.

    Approved cases keep their final snapshot.  An edit older than what the item holds (a late
    delivery) changes nothing; one older than the committee's amendment keeps the committee's
    welfare type and amount.  An edit that arrives before ``case.registered`` places the case
    on the agenda itself.
    """
    item = session.scalars(
        select(AgendaItem).where(AgendaItem.case_id == snapshot["case_id"]).with_for_update()
    ).first()
    if item is None:
        if status in (None, "registered", "on_agenda"):
            place_on_agenda(session, snapshot=snapshot, occurred_at=occurred_at)
        return session.get(AgendaItem, snapshot["case_id"])
    if item.status == AgendaStatus.IN_BATCH or occurred_at <= item.snapshot_at:
        return item
    names = [n for n in SNAPSHOT_FIELDS if n not in COMMITTEE_FIELDS]
    if item.amended_at is None or occurred_at > item.amended_at:
        names += COMMITTEE_FIELDS
    changed = [n for n in names if getattr(item, n) != snapshot[n]]
    before = {n: _audited(n, getattr(item, n)) for n in changed}
    for name in changed:
        setattr(item, name, snapshot[name])
    item.snapshot_at = occurred_at
    if changed:
        item.version += 1
        audit.record(
            session,
            action="case.refresh",
            object_type="case",
            object_id=item.case_id,
            actor=SYSTEM_ACTOR,
            district_code=item.district_code,
            fields=changed,
            before=before,
            after={n: _audited(n, getattr(item, n)) for n in changed},
        )
    return item


def _audited(name: str, value: Any) -> Any:
    """A value as the audit log keeps it: personal names are not copied into it."""
    if name in ("title", "first_name", "last_name"):
        return "[changed]"
    return money_str(value) if isinstance(value, Decimal) else value


def current_agenda(session: Session, *, district_code: str) -> AgendaView:
    """The cases waiting for the district's next meeting (not those of a batch being locked)."""
    items = list(
        session.scalars(
            select(AgendaItem)
            .where(
                AgendaItem.district_code == district_code,
                AgendaItem.status == AgendaStatus.ON_AGENDA,
                AgendaItem.batch_id.is_(None),
            )
            .order_by(AgendaItem.registered_at, AgendaItem.case_no)
        )
    )
    closing = session.scalars(
        select(Batch).where(Batch.district_code == district_code, Batch.status == BatchStatus.LOCKING)
    ).first()
    return AgendaView(
        district_code=district_code,
        items=items,
        count=len(items),
        total_amount=total_of(i.amount for i in items),
        closing=closing,
    )


def deferred_cases(session: Session, *, district_code: str) -> list[AgendaItem]:
    """Cases taken off the agenda for now (the home list)."""
    return list(
        session.scalars(
            select(AgendaItem)
            .where(AgendaItem.district_code == district_code, AgendaItem.status == AgendaStatus.DEFERRED)
            .order_by(AgendaItem.decided_at, AgendaItem.case_no)
        )
    )


def get_case(session: Session, *, case_id: str, district_filter: str | None) -> AgendaItem:
    """One case as approval knows it."""
    return _load_item(session, case_id, district_filter, lock=False)


# --- the committee's decisions ---------------------------------------------------------------------
def defer_case(session: Session, *, case_id: str, actor: Actor) -> AgendaItem:
    """Take a case off the agenda for now (นำออกจากที่ประชุมชั่วคราว)."""
    item = _load_item(session, case_id, actor.district_code, lock=True)
    check_can_defer(item.status, item.batch_id)
    before = _decision_state(item)
    now = utcnow()
    item.status, item.decided_by, item.decided_at = AgendaStatus.DEFERRED, actor.username, now
    item.version += 1
    _audit_item(session, "case.defer", item, actor, ("status",), before)
    publish(session, "case.deferred", _case_ref(item, actor, now), producer=PRODUCER)
    return item


def restore_case(session: Session, *, case_id: str, actor: Actor) -> AgendaItem:
    """Put a deferred case back on the agenda."""
    item = _load_item(session, case_id, actor.district_code, lock=True)
    check_can_restore(item.status, item.batch_id)
    before = _decision_state(item)
    now = utcnow()
    item.status, item.decided_by, item.decided_at = AgendaStatus.ON_AGENDA, actor.username, now
    item.version += 1
    _audit_item(session, "case.restore", item, actor, ("status",), before)
    publish(session, "case.restored", _case_ref(item, actor, now), producer=PRODUCER)
    return item


def disqualify_case(session: Session, *, case_id: str, reason: str | None, actor: Actor) -> AgendaItem:
    """Record that a case does not qualify (บันทึกขาดคุณสมบัติ), with the reason; final."""
    text = clean_reason(reason)
    item = _load_item(session, case_id, actor.district_code, lock=True)
    check_can_disqualify(item.status, item.batch_id)
    before = _decision_state(item)
    now = utcnow()
    item.status, item.decided_by, item.decided_at = AgendaStatus.DISQUALIFIED, actor.username, now
    item.disqualify_reason = text
    item.version += 1
    _audit_item(session, "case.disqualify", item, actor, ("status", "disqualify_reason"), before)
    publish(session, "case.disqualified", {**_case_ref(item, actor, now), "reason": text}, producer=PRODUCER)
    return item


def plan_amendment(
    session: Session,
    *,
    case_id: str,
    actor: Actor,
    welfare_type_code: str | None,
    amount: Decimal | None,
) -> AmendmentPlan:
    """Check that the committee may change this case's welfare type and/or amount (nothing saved)."""
    if welfare_type_code is None and amount is None:
        raise DomainError(
            "กรุณาระบุประเภทเงินสงเคราะห์หรือจำนวนเงินที่ที่ประชุมมีมติ", code="nothing_to_change", field="amount"
        )
    item = _load_item(session, case_id, actor.district_code, lock=False)
    check_can_amend(item.status, item.batch_id)
    plan = AmendmentPlan(
        case_id=item.case_id,
        version=item.version,
        welfare_type_code=welfare_type_code or item.welfare_type_code,
        amount=amount if amount is not None else item.amount,
    )
    if plan.welfare_type_code != item.welfare_type_code:
        plan.changed.append("welfare_type_code")
    if plan.amount != item.amount:
        plan.changed.append("amount")
    return plan


def amend_case(
    session: Session, *, plan: AmendmentPlan, check: AmendmentCheck | None, actor: Actor
) -> AgendaItem:
    """Save the committee's change that intake accepted, and tell the other stages (case.amended)."""
    item = _load_item(session, plan.case_id, actor.district_code, lock=True)
    if item.version != plan.version:
        raise Conflict("ข้อมูลเคสถูกเปลี่ยนแปลงระหว่างการตรวจสอบ กรุณาเปิดรายการใหม่แล้วลองอีกครั้ง", code="case_changed")
    check_can_amend(item.status, item.batch_id)
    if check is None or not plan.changed:
        return item
    before = _decision_state(item)
    now = utcnow()
    item.welfare_type_code = check.welfare_type_code
    item.welfare_type_name = check.welfare_type_name
    item.regulation_ref = check.regulation_ref
    item.amount = check.amount
    item.amended_by, item.amended_at = actor.username, now
    item.version += 1
    _audit_item(session, "case.amend", item, actor, ("welfare_type_code", "amount"), before)
    publish(
        session,
        "case.amended",
        {
            **_case_ref(item, actor, now),
            "welfare_type_code": item.welfare_type_code,
            "amount": money_str(item.amount),
        },
        producer=PRODUCER,
    )
    return item


# --- meetings ------------------------------------------------------------------------------------
def record_meeting(
    session: Session,
    *,
    actor: Actor,
    meeting_date: dt.date,
    number: str,
    attendees: Sequence[str],
    notes: str,
) -> Meeting:
    """Record a meeting of the district committee."""
    if actor.district_code is None:
        raise DomainError("ต้องเป็นผู้ใช้ของสำนักงานเขต", code="district_required")
    meeting = Meeting(
        id=str(uuid.uuid4()),
        district_code=actor.district_code,
        meeting_date=meeting_date,
        fiscal_year=batch_fiscal_year(meeting_date),
        number=number.strip(),
        attendees=[a.strip() for a in attendees if a.strip()],
        notes=notes.strip(),
        created_by=actor.username,
        created_at=utcnow(),
    )
    session.add(meeting)
    session.flush()
    audit.record(
        session,
        action="meeting.record",
        object_type="meeting",
        object_id=meeting.id,
        actor=actor.username,
        role=actor.role,
        district_code=meeting.district_code,
        ip=actor.ip,
        fields=("meeting_date", "number", "attendees", "notes"),
        after={
            "meeting_date": meeting.meeting_date.isoformat(),
            "number": meeting.number,
            "attendees": meeting.attendees,
            "notes": meeting.notes,
        },
    )
    return meeting


def list_meetings(
    session: Session, *, district_filter: str | None, fiscal_year: int | None, page: int, per_page: int
) -> tuple[list[Meeting], int]:
    """Meetings, newest first."""
    stmt = select(Meeting)
    if district_filter is not None:
        stmt = stmt.where(Meeting.district_code == district_filter)
    if fiscal_year is not None:
        stmt = stmt.where(Meeting.fiscal_year == fiscal_year)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(Meeting.meeting_date.desc(), Meeting.created_at.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return list(rows), int(total)
