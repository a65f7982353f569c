"""Event envelopes for reporting's tests, built through the real contracts (``shared.events.build``)."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from services.reporting.models import EVENT_TABLES
from shared import events

T0 = dt.datetime(2022, 10, 3, 2, 30, tzinfo=dt.UTC)  # 3 Oct 2022 09:30 in Bangkok: fiscal 2566
_seq = itertools.count(1)

KINDERGARTEN = ("KINDERGARTEN", "เงินสนับสนุนกิจกรรมทางการศึกษาระดับอนุบาล", "บัญชีที่ 1 ลำดับที่ 1")
CAREER = ("CAREER", "ทุนประกอบอาชีพ", "บัญชีที่ 1 ลำดับที่ 3")
MEDICAL = ("MEDICAL", "ค่าใช้จ่ายที่เกี่ยวเนื่องในการรักษาพยาบาล", None)


def at(minutes: float) -> dt.datetime:
    """A moment ``minutes`` after T0."""
    return T0 + dt.timedelta(minutes=minutes)


def envelope(
    event_type: str, payload: dict[str, Any], occurred_at: dt.datetime, producer: str
) -> dict[str, Any]:
    """A valid envelope (the payload checked strictly, as producers do) at a chosen time."""
    env = events.build(event_type, payload, producer=producer)
    env["occurred_at"] = occurred_at.isoformat()
    return env


def snapshot(
    case_id: str | None = None,
    *,
    district: str = "1008",
    title: str = "นาง",
    first: str = "ทดสอบ",
    last: str = "ใจดี",
    welfare: tuple[str, str, str | None] = CAREER,
    amount: str = "5000.00",
    registered_at: dt.datetime = T0,
    fiscal_year: int = 2566,
    case_type: str = "general",
) -> dict[str, Any]:
    """A case snapshot (CaseSnapshot)."""
    n = next(_seq)
    return {
        "case_id": case_id or str(uuid.uuid4()),
        "case_no": f"Case{fiscal_year}-{n}",
        "fiscal_year": fiscal_year,
        "district_code": district,
        "title": title,
        "first_name": first,
        "last_name": last,
        "case_type": case_type,
        "welfare_type_code": welfare[0],
        "welfare_type_name": welfare[1],
        "regulation_ref": welfare[2],
        "amount": amount,
        "registered_at": registered_at.isoformat(),
    }


def bank(
    code: str = "006", account: str = "1234567890", name: str = "นาง ทดสอบ ใจดี", branch: str | None = None
) -> dict[str, Any]:
    return {"bank_code": code, "branch_code": branch, "account_name": name, "account_no": account}


def registered(snap: dict[str, Any], when: dt.datetime | None = None) -> dict[str, Any]:
    return envelope(
        "case.registered", snap, when or dt.datetime.fromisoformat(snap["registered_at"]), "intake"
    )


def updated(
    snap: dict[str, Any],
    when: dt.datetime,
    *,
    status: str = "registered",
    bank_: dict[str, Any] | None = None,
) -> dict[str, Any]:
    changed = ["bank"] if bank_ else ["amount"]
    return envelope(
        "case.updated", {**snap, "changed": changed, "bank": bank_, "status": status}, when, "intake"
    )


def ref(snap: dict[str, Any], when: dt.datetime) -> dict[str, Any]:
    return {
        "case_id": snap["case_id"],
        "district_code": snap["district_code"],
        "at": when.isoformat(),
        "by": "officer.1008",
    }


def placed(snap: dict[str, Any], when: dt.datetime) -> dict[str, Any]:
    return envelope("case.placed_on_agenda", ref(snap, when), when, "approval")


def deferred(snap: dict[str, Any], when: dt.datetime) -> dict[str, Any]:
    return envelope("case.deferred", ref(snap, when), when, "approval")


def restored(snap: dict[str, Any], when: dt.datetime) -> dict[str, Any]:
    return envelope("case.restored", ref(snap, when), when, "approval")


def disqualified(snap: dict[str, Any], when: dt.datetime, reason: str = "มีรายได้เกินเกณฑ์") -> dict[str, Any]:
    return envelope("case.disqualified", {**ref(snap, when), "reason": reason}, when, "approval")


def amended(snap: dict[str, Any], when: dt.datetime, *, welfare_code: str, amount: str) -> dict[str, Any]:
    payload = {**ref(snap, when), "welfare_type_code": welfare_code, "amount": amount}
    return envelope("case.amended", payload, when, "approval")


def batch_approved(
    batch_id: str,
    cases: list[tuple[dict[str, Any], dict[str, Any]]],
    when: dt.datetime,
    *,
    district: str = "1008",
    number: int = 1,
    fiscal_year: int = 2566,
) -> dict[str, Any]:
    """batch.approved with (snapshot, bank) pairs."""
    locked = [{**snap, "bank": b, "phone": None, "email": None} for snap, b in cases]
    total = sum((Decimal(s["amount"]) for s, _ in cases), Decimal("0.00"))
    payload = {
        "batch_id": batch_id,
        "district_code": district,
        "fiscal_year": fiscal_year,
        "number": number,
        "title": f"รายการอนุมัติให้ความช่วยเหลือสำนักงานเขต ครั้งที่{number}-ปีงบประมาณ{fiscal_year}",
        "meeting_date": "2022-10-11",
        "approved_at": when.isoformat(),
        "approved_by": "head.1008",
        "total_amount": f"{total:.2f}",
        "cases": locked,
    }
    return envelope("batch.approved", payload, when, "approval")


def batch_failed(batch_id: str, when: dt.datetime, district: str = "1008") -> dict[str, Any]:
    return envelope(
        "batch.failed",
        {"batch_id": batch_id, "district_code": district, "reason": "ล็อกเคสไม่สำเร็จ"},
        when,
        "approval",
    )


def paid(snap: dict[str, Any], batch_id: str, when: dt.datetime, amount: str | None = None) -> dict[str, Any]:
    payload = {
        "case_id": snap["case_id"],
        "district_code": snap["district_code"],
        "approval_batch_id": batch_id,
        "amount": amount or snap["amount"],
        "paid_at": when.isoformat(),
        "ref2": "WF2566-000001",
    }
    return envelope("payout.paid", payload, when, "payment")


def failed(
    snap: dict[str, Any], batch_id: str, when: dt.datetime, *, final: bool, reason: str = "บัญชีปิดแล้ว"
) -> dict[str, Any]:
    payload = {
        "case_id": snap["case_id"],
        "district_code": snap["district_code"],
        "approval_batch_id": batch_id,
        "reason": reason,
        "final": final,
        "at": when.isoformat(),
    }
    return envelope("payout.failed", payload, when, "payment")


def reversed_(
    snap: dict[str, Any],
    batch_id: str,
    when: dt.datetime,
    *,
    ref2: str = "WF2566-000001",
    reason: str = "R03 บัญชีปิดหลังโอน",
) -> dict[str, Any]:
    payload = {
        "case_id": snap["case_id"],
        "district_code": snap["district_code"],
        "approval_batch_id": batch_id,
        "amount": snap["amount"],
        "ref2": ref2,
        "reason": reason,
        "reason_code": "R03",
        "value_date": when.date().isoformat(),
        "at": when.isoformat(),
    }
    return envelope("payout.reversed", payload, when, "payment")


def corrected(snap: dict[str, Any], when: dt.datetime, bank_: dict[str, Any]) -> dict[str, Any]:
    payload = {
        "case_id": snap["case_id"],
        "district_code": snap["district_code"],
        "bank": bank_,
        "by": "finance.1008",
        "at": when.isoformat(),
    }
    return envelope("payout.bank_details_corrected", payload, when, "payment")


def settled(
    batch_id: str, when: dt.datetime, *, paid_count: int, paid_total: str, closed: int, district: str = "1008"
) -> dict[str, Any]:
    payload = {
        "approval_batch_id": batch_id,
        "payout_batch_id": f"pay-{batch_id}",
        "district_code": district,
        "settled_at": when.isoformat(),
        "settled_by": "finance.1008",
        "paid_count": paid_count,
        "paid_total": paid_total,
        "closed_count": closed,
    }
    return envelope("batch.settled", payload, when, "payment")


def apply(sessions: Any, *envelopes: dict[str, Any]) -> None:
    """Apply events with reporting's consumers, one transaction per event (as the inbox does)."""
    from services.reporting.services import HANDLERS

    for env in envelopes:
        event = events.parse(env)
        with sessions.begin() as session:
            HANDLERS[event.event_type](session, event)


def dump(sessions: sessionmaker[Session]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every event-built table (without the bookkeeping ``updated_at``), sorted."""
    out = {}
    with sessions() as s:
        for model in EVENT_TABLES:
            cols = [c for c in model.__table__.columns if c.name != "updated_at"]
            rows = [tuple(r) for r in s.execute(select(*cols)).all()]
            out[model.__tablename__] = sorted(rows, key=repr)
    return out


def story() -> list[dict[str, Any]]:
    """A district's fiscal year in events: registrations, committee, a batch, payments, settlement."""
    a = snapshot(title="เด็กชาย", first="ทดสอบ1", last="ทดสอบ1", welfare=KINDERGARTEN, amount="3000.00")
    b = snapshot(title="นาง", first="ทดสอบ2", last="ทดสอบ2", amount="5000.00", registered_at=at(30))
    c = snapshot(first="เลื่อน", amount="2000.00", registered_at=at(60 * 24 * 40))  # November
    d = snapshot(first="ขาดคุณสมบัติ", welfare=MEDICAL, amount="1500.00", registered_at=at(45))
    e = snapshot(first="อื่น", district="1001", amount="4000.00", registered_at=at(50))
    amended_b = {**b, "amount": "4500.00"}
    return [
        *(registered(s) for s in (a, b, c, d, e)),
        *(placed(s, at(60 * 24 * 41)) for s in (a, b, c, d)),
        updated(b, at(60 * 24 * 41 + 1), status="on_agenda", bank_=bank("004", "1112223334")),
        amended(b, at(60 * 24 * 42), welfare_code="CAREER", amount="4500.00"),
        deferred(c, at(60 * 24 * 42 + 1)),
        disqualified(d, at(60 * 24 * 42 + 2)),
        batch_approved("B-1", [(a, bank()), (amended_b, bank("004", "1112223334"))], at(60 * 24 * 43)),
        failed(a, "B-1", at(60 * 24 * 44), final=False, reason="เลขบัญชีไม่ถูกต้อง"),
        corrected(a, at(60 * 24 * 44 + 5), bank("006", "9876543210")),
        paid(a, "B-1", at(60 * 24 * 45)),
        failed(amended_b, "B-1", at(60 * 24 * 45 + 1), final=True, reason="บัญชีปิดแล้ว"),
        settled("B-1", at(60 * 24 * 46), paid_count=1, paid_total="3000.00", closed=1),
        batch_failed("B-0", at(60 * 24 * 20)),
    ]


def ids(envelopes: list[dict[str, Any]]) -> dict[str, str]:
    """first name -> case id, from the registrations."""
    return {
        e["payload"]["first_name"]: e["payload"]["case_id"]
        for e in envelopes
        if e["event_type"] == "case.registered"
    }
