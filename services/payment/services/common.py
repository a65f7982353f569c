"""What every payment use case shares: errors, the actor, scoping and locks, audit and events."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Table, select
from sqlalchemy.orm import Session

from services.payment.models import PaymentFile, PayoutBatch, PayoutLine
from shared import audit, events, messaging
from shared.banks import mask_account_no
from shared.db import utcnow
from shared.models import OutboxMessage
from shared.money import money_str

PRODUCER = "payment"


# --- errors the HTTP layer maps ------------------------------------------------------------------
class NotFound(Exception):
    """No such object in the caller's reach (404)."""

    def __init__(self, message: str = "ไม่พบข้อมูลที่ต้องการ") -> None:
        super().__init__(message)
        self.message = message


class Conflict(Exception):
    """The object's state does not allow the action (409)."""

    def __init__(self, message: str, code: str = "conflict") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class RuleBroken(Exception):
    """A business rule is broken (422); ``problems`` list every offending line."""

    def __init__(
        self, message: str, code: str = "rule_broken", problems: Sequence[dict[str, Any]] = ()
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.problems = list(problems)


@dataclass(frozen=True)
class Actor:
    """Who acts: username, role, district (None for city-wide roles) and address."""

    username: str
    role: str
    district_code: str | None = None
    ip: str | None = None

    @property
    def is_city_wide(self) -> bool:
        """Central office and operators see every district."""
        return self.role in ("central_admin", "operator")


SYSTEM = Actor("system:payment", "system")


def baht(satang: int) -> str:
    """Integer satang as the contract's amount string ("3000.00"), exactly and fast."""
    if satang < 0:
        raise ValueError("amounts are never negative here")
    return f"{satang // 100}.{satang % 100:02d}"


mask_account = mask_account_no


def record_audit(
    session: Session,
    actor: Actor,
    *,
    action: str,
    object_type: str,
    object_id: object,
    district_code: str | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    names = sorted(set(before or {}) | set(after or {}))
    audit.record(
        session,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        actor=actor.username,
        role=actor.role,
        district_code=district_code,
        ip=actor.ip,
        fields=names,
        before=before,
        after=after,
    )


def bulk_insert(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert many rows in the caller's transaction: ``COPY`` on PostgreSQL, multi-row INSERTs otherwise.

    An import posts ~300,000 rows (result lines, outbox rows); rendering them as INSERT
    parameters costs more CPU than the import itself, COPY a fraction of it
    (tests/perf/bench_payment.py).  Column defaults are not applied here: rows are complete.
    """
    if not rows:
        return
    names = list(rows[0])
    if session.get_bind().dialect.name != "postgresql":
        for start in range(0, len(rows), 20_000):
            session.execute(table.insert(), rows[start : start + 20_000])
        return
    as_json = {name for name in names if isinstance(table.c[name].type, JSON)}
    columns = ", ".join(f'"{name}"' for name in names)
    driver = session.connection().connection.driver_connection  # psycopg, inside this transaction
    with driver.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:  # type: ignore[union-attr]
        for row in rows:
            copy.write_row(
                [json.dumps(row[n], ensure_ascii=False) if n in as_json else row[n] for n in names]
            )


def publish_many(session: Session, event_type: str, payloads: Sequence[dict[str, Any]]) -> None:
    """Outbox rows for many events of one type, in multi-row inserts (an import may pay 100,000).

    "Strict out" is kept by construction: the first payload is loaded strictly through the
    contract's schema (``events.build``) and must come back unchanged — same keys, same wire
    format — and the others are built by the same code from values of the same types.
    """
    if not payloads:
        return
    checked = events.build(event_type, payloads[0], producer=PRODUCER)["payload"]
    if checked != payloads[0]:
        raise ValueError(
            f"{event_type} payloads are not in the contract's wire format: {checked} != {payloads[0]}"
        )
    version = events.CURRENT_VERSION[event_type]
    destinations = messaging.ROUTES[event_type]
    occurred_at = utcnow()
    rows = []
    for payload in payloads:
        envelope = {
            "event_id": str(uuid.uuid4()),
            "event_type": event_type,
            "version": version,
            "occurred_at": occurred_at.isoformat(),
            "producer": PRODUCER,
            "payload": payload,
        }
        rows.extend(
            {
                "event_id": envelope["event_id"],
                "event_type": event_type,
                "destination": queue,
                "task_name": messaging.task_name(queue, event_type),
                "body": envelope,
                "created_at": occurred_at,
                "send_attempts": 0,
            }
            for queue in destinations
        )
    bulk_insert(session, OutboxMessage.__table__, rows)


def publish_event(session: Session, event_type: str, payload: dict[str, Any]) -> None:
    messaging.publish(session, event_type, payload, producer=PRODUCER)


# --- loading with district scoping and locks -----------------------------------------------------
def is_visible(actor: Actor, district_code: str) -> bool:
    return actor.is_city_wide or actor.district_code == district_code


def get_batch(session: Session, batch_id: int, actor: Actor, *, lock: bool = False) -> PayoutBatch:
    """A batch the actor may see (NotFound for another district's)."""
    stmt = select(PayoutBatch).where(PayoutBatch.id == batch_id)
    if lock:
        stmt = stmt.with_for_update()
    batch = session.scalars(stmt).first()
    if batch is None or not is_visible(actor, batch.district_code):
        raise NotFound("ไม่พบชุดการจ่ายเงินที่ต้องการ")
    return batch


def lock_batch(session: Session, batch_id: int) -> PayoutBatch:
    return session.scalars(select(PayoutBatch).where(PayoutBatch.id == batch_id).with_for_update()).one()


def get_line(session: Session, line_id: int, actor: Actor, *, lock: bool = False) -> PayoutLine:
    """A payout line the actor may see; with ``lock`` its batch row is locked first."""
    line = session.get(PayoutLine, line_id)
    if line is None or not is_visible(actor, line.district_code):
        raise NotFound("ไม่พบรายการผู้รับเงินที่ต้องการ")
    if lock:
        lock_batch(session, line.batch_id)
        session.refresh(line)
    return line


def get_file(session: Session, file_id: int, actor: Actor, *, lock: bool = False) -> PaymentFile:
    """A payment file the actor may see."""
    pf = session.get(PaymentFile, file_id)
    if pf is None:
        raise NotFound("ไม่พบไฟล์โอนเงินที่ต้องการ")
    batch = session.get(PayoutBatch, pf.batch_id)
    if batch is None or not is_visible(actor, batch.district_code):
        raise NotFound("ไม่พบไฟล์โอนเงินที่ต้องการ")
    if lock:
        lock_batch(session, pf.batch_id)
        session.refresh(pf)
    return pf


def ensure_open(batch: PayoutBatch) -> None:
    if batch.status == "settled":
        raise Conflict("ชุดการจ่ายเงินนี้บันทึกการจ่ายสำเร็จทั้งหมดแล้ว แก้ไขไม่ได้", "batch_settled")


def bank_snapshot(line: PayoutLine, *, masked: bool) -> dict[str, Any]:
    return {
        "bank_code": line.bank_code,
        "branch_code": line.branch_code,
        "account_name": line.account_name,
        "account_no": mask_account(line.account_no) if masked else line.account_no,
    }


def publish_paid(session: Session, batch: PayoutBatch, line: PayoutLine) -> None:
    """payout.paid for a line that just became paid."""
    assert line.paid_at is not None
    assert line.paid_ref2 is not None
    publish_event(
        session,
        "payout.paid",
        {
            "case_id": line.case_id,
            "district_code": line.district_code,
            "approval_batch_id": batch.approval_batch_id,
            "amount": money_str(line.amount),
            "paid_at": line.paid_at.isoformat(),
            "ref2": line.paid_ref2,
        },
    )


def publish_failed(session: Session, batch: PayoutBatch, line: PayoutLine, reason: str) -> None:
    """payout.failed (not final: the line can be corrected and sent again)."""
    publish_event(
        session,
        "payout.failed",
        {
            "case_id": line.case_id,
            "district_code": line.district_code,
            "approval_batch_id": batch.approval_batch_id,
            "reason": reason or "โอนไม่สำเร็จ",
            "final": False,
            "at": utcnow().isoformat(),
        },
    )
