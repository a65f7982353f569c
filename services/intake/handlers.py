"""How intake follows the other stages: statuses, amendments, the lock saga, payments.

Each function is a use case driven by an event (already loaded by its contract schema); the
consumers in ``tasks.py`` call them inside the inbox transaction, so a redelivered event
changes nothing.  An event about a case intake does not know, or one that no longer applies
(stale), is logged and ignored: retrying could never make it apply.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.intake import domain
from services.intake.models import BatchLock, Case, CaseEvent, WelfareType
from services.intake.services import (
    PRODUCER,
    Actor,
    add_case_event,
    add_case_events,
    audit_case,
    bank_of,
    case_event_row,
    locked_snapshot,
    set_bank,
)
from shared import audit, messaging
from shared.db import utcnow
from shared.money import money_str

log = logging.getLogger(__name__)

#: Thai reasons of a refused lock (shown to the head by approval).
REFUSAL_UNKNOWN = "ไม่พบเคสนี้ในระบบบันทึกข้อมูลเคส"
REFUSAL_OTHER_DISTRICT = "เคสนี้ไม่ได้อยู่ในความรับผิดชอบของสำนักงานเขตนี้"
REFUSAL_LOCKED = "เคสนี้อยู่ในรายการอนุมัติเงินครั้งอื่นแล้ว"
REFUSAL_DISQUALIFIED = "เคสนี้ถูกบันทึกขาดคุณสมบัติแล้ว"
REFUSAL_CLOSED = "เคสนี้สิ้นสุดแล้ว"
REFUSAL_CHANGED = "ข้อมูลเคสถูกแก้ไขระหว่างจัดทำรายการ"
REFUSAL_DUPLICATE = "เคสนี้อยู่ในรายการซ้ำกัน"
REFUSAL_OTHER_SET = "รายการอนุมัตินี้ล็อกเคสชุดอื่นไว้แล้ว"


def _case(session: Session, case_id: str, event: str) -> Case | None:
    case = session.get(Case, case_id, with_for_update=True)
    if case is None:
        log.warning("%s for unknown case %s ignored", event, case_id)
    return case


def change_status(
    session: Session,
    *,
    case_id: str,
    kind: str,
    at: dt.datetime,
    by: str,
    actor: str,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> bool:
    """Move a case to the status an event of another stage implies; False when it does not apply."""
    case = _case(session, case_id, kind)
    if case is None:
        return False
    new = domain.next_status(case.status, kind)
    if new is None:
        log.warning("%s ignored for case %s in status %s", kind, case_id, case.status)
        return False
    if kind in domain.PAYOUT_KINDS and domain.payout_is_stale(kind, at, _latest_payout_at(session, case_id)):
        log.warning("%s of %s ignored for case %s: a later payout event was applied", kind, at, case_id)
        return False
    before, before_reason = case.status, case.status_reason
    case.status = new
    if reason is not None or before != new:
        case.status_reason = reason  # a reason belongs to its status: a later "paid" clears it
    case.updated_at = utcnow()
    add_case_event(session, case, kind, status=new, by=by, at=at, note=reason, details=details)
    # Audited whenever the case changes, also when only the reason does (a transfer that failed
    # while the case stays "paying").
    changed = [
        name
        for name, old in (("status", before), ("status_reason", before_reason))
        if getattr(case, name) != old
    ]
    if changed:
        audit_case(
            session,
            Actor(actor, None, case.district_code),
            action=f"case.{kind}",
            case=case,
            fields=changed,
            before={"status": before},
            after={"status": new},
        )
    return True


def _latest_payout_at(session: Session, case_id: str) -> dt.datetime | None:
    """When the latest payout event applied to the case happened (its history rows keep it)."""
    return session.scalars(
        select(CaseEvent.at)
        .where(CaseEvent.case_id == case_id, CaseEvent.kind.in_(domain.PAYOUT_KINDS))
        .order_by(CaseEvent.at.desc())
        .limit(1)
    ).first()


def change_statuses(
    session: Session,
    *,
    case_ids: Sequence[str],
    kind: str,
    at: dt.datetime,
    by: str,
    actor: str,
    details: dict[str, Any] | None = None,
) -> int:
    """``change_status`` for many cases at once (a whole batch): one locking SELECT, one UPDATE per
    resulting status, one multi-row INSERT of history rows.  Returns how many cases applied."""
    ids = sorted(set(case_ids))
    rows = session.execute(
        select(Case.id, Case.status, Case.district_code)
        .where(Case.id.in_(ids))
        .order_by(Case.id)
        .with_for_update()
    ).all()
    known = {row.id for row in rows}
    for case_id in ids:
        if case_id not in known:
            log.warning("%s for unknown case %s ignored", kind, case_id)
    now = utcnow()
    moves: dict[str, list[str]] = {}
    events_ = []
    for row in rows:
        new = domain.next_status(row.status, kind)
        if new is None:
            log.warning("%s ignored for case %s in status %s", kind, row.id, row.status)
            continue
        events_.append(case_event_row(row.id, kind, status=new, by=by, at=at, details=details))
        if row.status == new:
            continue
        moves.setdefault(new, []).append(row.id)
        audit.record(
            session,
            action=f"case.{kind}",
            object_type="case",
            object_id=row.id,
            actor=actor,
            district_code=row.district_code,
            fields=["status"],
            before={"status": row.status},
            after={"status": new},
        )
    for new, moved in moves.items():
        session.execute(
            update(Case)
            .where(Case.id.in_(moved))
            .values(status=new, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    add_case_events(session, events_)
    return len(events_)


def amend_case(
    session: Session, *, case_id: str, welfare_type_code: str, amount: Decimal, at: dt.datetime, by: str
) -> bool:
    """The committee changed the welfare type and/or amount (case.amended)."""
    case = _case(session, case_id, "case.amended")
    if case is None:
        return False
    if session.get(WelfareType, welfare_type_code) is None:
        raise ValueError(f"case.amended names unknown welfare type {welfare_type_code}")
    if case.locked_batch_id:
        log.warning("case.amended ignored for case %s locked in batch %s", case_id, case.locked_batch_id)
        return False
    before = {"welfare_type_code": case.welfare_type_code, "amount": money_str(case.amount)}
    after = {"welfare_type_code": welfare_type_code, "amount": money_str(amount)}
    if before == after:
        return True
    case.welfare_type_code = welfare_type_code
    case.amount = amount
    case.updated_at = utcnow()
    add_case_event(
        session, case, "amended", status=None, by=by, at=at, details={"before": before, "after": after}
    )
    audit_case(
        session,
        Actor(f"approval:{by}", None, case.district_code),
        action="case.amend",
        case=case,
        fields=sorted(k for k in after if after[k] != before[k]),
        before=before,
        after=after,
    )
    return True


def _refusal(case_id: str, case: Case | None, reason: str) -> dict[str, Any]:
    return {"case_id": case_id, "case_no": case.case_no if case else None, "reason": reason}


def _lock_refusals(
    items: Sequence[Mapping[str, Any]], cases: Mapping[str, Case], *, batch_id: str, district_code: str
) -> list[dict[str, Any]]:
    refusals = []
    seen: set[str] = set()
    for item in items:
        case_id = item["case_id"]
        case = cases.get(case_id)
        if case_id in seen:
            refusals.append(_refusal(case_id, case, REFUSAL_DUPLICATE))
        elif case is None:
            refusals.append(_refusal(case_id, None, REFUSAL_UNKNOWN))
        elif case.district_code != district_code:
            # Another district's case: its number is not revealed either.
            refusals.append(_refusal(case_id, None, REFUSAL_OTHER_DISTRICT))
        elif case.locked_batch_id and case.locked_batch_id != batch_id:
            refusals.append(_refusal(case_id, case, REFUSAL_LOCKED))
        elif case.status == "disqualified":
            refusals.append(_refusal(case_id, case, REFUSAL_DISQUALIFIED))
        elif case.status in domain.FINAL_STATUSES:
            refusals.append(_refusal(case_id, case, REFUSAL_CLOSED))
        elif case.welfare_type_code != item["welfare_type_code"] or case.amount != item["amount"]:
            refusals.append(_refusal(case_id, case, REFUSAL_CHANGED))
        seen.add(case_id)
    return refusals


def lock_batch(
    session: Session, *, batch_id: str, district_code: str, items: Sequence[Mapping[str, Any]]
) -> str:
    """Lock every case of an approval batch, or none (batch.lock_requested).

    Publishes ``cases.locked`` with the final snapshots, or ``cases.lock_refused`` naming each
    case that prevented it.  A batch asked again after it was locked gets the same snapshots
    again.  Returns ``locked``, ``relocked`` or ``refused``.
    """
    existing = session.get(BatchLock, batch_id, with_for_update=True)
    if existing is not None:
        locked_ids = {c["case_id"] for c in existing.payload["cases"]}
        asked = [item["case_id"] for item in items]
        if set(asked) == locked_ids and existing.district_code == district_code:
            messaging.publish(session, "cases.locked", existing.payload, producer=PRODUCER)
            return "relocked"
        refusals = [
            {"case_id": case_id, "case_no": None, "reason": REFUSAL_OTHER_SET}
            for case_id in sorted(set(asked) ^ locked_ids)
        ]
        _publish_refusal(session, batch_id=batch_id, district_code=district_code, refusals=refusals)
        return "refused"
    ids = sorted({item["case_id"] for item in items})
    # Locked in id order, so two lock requests sharing cases cannot deadlock.
    rows = session.scalars(select(Case).where(Case.id.in_(ids)).order_by(Case.id).with_for_update()).all()
    cases = {c.id: c for c in rows}
    refusals = _lock_refusals(items, cases, batch_id=batch_id, district_code=district_code)
    if refusals:
        _publish_refusal(session, batch_id=batch_id, district_code=district_code, refusals=refusals)
        return "refused"
    now = utcnow()
    types = {wt.code: wt for wt in session.scalars(select(WelfareType))}
    snapshots = []
    # One UPDATE and one multi-row INSERT for the whole batch (the rows are locked above); the
    # loaded objects are only read from here on.
    session.execute(
        update(Case)
        .where(Case.id.in_(ids))
        .values(locked_batch_id=batch_id, locked_at=now)
        .execution_options(synchronize_session=False)
    )
    events_ = []
    for item in items:
        case = cases[item["case_id"]]
        events_.append(
            case_event_row(
                case.id, "locked", status=None, by="approval", at=now, details={"batch_id": batch_id}
            )
        )
        audit_case(
            session,
            Actor("approval", None, case.district_code),
            action="case.lock",
            case=case,
            fields=["locked_batch_id"],
            before={"locked_batch_id": None},
            after={"locked_batch_id": batch_id},
        )
        snapshots.append(locked_snapshot(case, types[case.welfare_type_code]))
    add_case_events(session, events_)
    payload = {"batch_id": batch_id, "district_code": district_code, "cases": snapshots}
    session.add(BatchLock(batch_id=batch_id, district_code=district_code, locked_at=now, payload=payload))
    messaging.publish(session, "cases.locked", payload, producer=PRODUCER)
    session.flush()
    return "locked"


def _publish_refusal(
    session: Session, *, batch_id: str, district_code: str, refusals: list[dict[str, Any]]
) -> None:
    log.info("lock of batch %s refused for %d case(s)", batch_id, len(refusals))
    messaging.publish(
        session,
        "cases.lock_refused",
        {"batch_id": batch_id, "district_code": district_code, "refusals": refusals},
        producer=PRODUCER,
    )


def approve_batch(
    session: Session, *, batch_id: str, case_ids: Sequence[str], at: dt.datetime, by: str
) -> int:
    """The approval batch is final: its cases become ``approved`` (batch.approved)."""
    return change_statuses(
        session,
        case_ids=case_ids,
        kind="approved",
        at=at,
        by=by,
        actor=f"approval:{by}",
        details={"batch_id": batch_id},
    )


def correct_bank_details(
    session: Session, *, case_id: str, bank: Mapping[str, Any], by: str, at: dt.datetime
) -> bool:
    """Finance corrected the payee's bank details in payment; intake's case follows."""
    case = _case(session, case_id, "payout.bank_details_corrected")
    if case is None:
        return False
    new = {
        "bank_code": bank["bank_code"],
        "branch_code": bank.get("branch_code"),
        "account_name": bank["account_name"],
        "account_no": bank["account_no"],
    }
    old = bank_of(case)
    if new == old:
        return True
    set_bank(case, new)
    case.updated_at = utcnow()
    add_case_event(session, case, "bank_details_corrected", status=None, by=by, at=at)
    audit_case(
        session,
        Actor(f"payment:{by}", None, case.district_code),
        action="case.bank_details_corrected",
        case=case,
        fields=["bank"],
        before={"bank": domain.masked_value("bank", old)},
        after={"bank": domain.masked_value("bank", new)},
    )
    return True
