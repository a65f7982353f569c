"""Payout batches: built from batch.approved, following case.updated, read, settled; alerts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from services.payment import domain
from services.payment.domain import LineState
from services.payment.models import (
    FileDownload,
    FileLine,
    PaymentAlert,
    PaymentFile,
    PayoutBatch,
    PayoutLine,
    ResultImport,
)
from services.payment.services.common import (
    Actor,
    Conflict,
    NotFound,
    bank_snapshot,
    ensure_open,
    get_batch,
    is_visible,
    lock_batch,
    publish_event,
    record_audit,
)
from shared.db import utcnow
from shared.money import from_satang, money_str, to_satang

if TYPE_CHECKING:
    from shared.events import Event


# --- events in: batch.approved, case.updated -------------------------------------------------------
def _payee_name(case: dict[str, Any]) -> str:
    return " ".join(
        part for part in (case.get("title"), case.get("first_name"), case.get("last_name")) if part
    )


def open_payout_batch(session: Session, event: Event) -> PayoutBatch | None:
    """Build the payout batch of an approval batch: one line per case (idempotent by approval batch).

    A case that already has a payout line (in any batch) is not added again — "paid at most
    once" — and finance gets an alert naming it.
    """
    p = event.payload
    existing = session.scalars(
        select(PayoutBatch).where(PayoutBatch.approval_batch_id == p["batch_id"])
    ).first()
    if existing is not None:
        return None  # redelivered, or published twice: the batch exists already
    batch = PayoutBatch(
        approval_batch_id=p["batch_id"],
        district_code=p["district_code"],
        fiscal_year=p["fiscal_year"],
        number=p["number"],
        title=p["title"],
        meeting_date=p["meeting_date"],
        approved_at=p["approved_at"],
        approved_by=p["approved_by"],
        status="open",
        source_event_id=event.event_id,
    )
    session.add(batch)
    session.flush()
    case_ids = [c["case_id"] for c in p["cases"]]
    taken = set(session.scalars(select(PayoutLine.case_id).where(PayoutLine.case_id.in_(case_ids))).all())
    alerts: list[str] = []
    lines = []
    for case in p["cases"]:
        if case["case_id"] in taken:
            alerts.append(f"เคส {case['case_no']} มีรายการจ่ายเงินอยู่แล้วในชุดอื่น ระบบไม่เพิ่มซ้ำ (จ่ายได้ครั้งเดียว)")
            continue
        taken.add(case["case_id"])
        bank = case["bank"]
        lines.append(
            PayoutLine(
                batch_id=batch.id,
                case_id=case["case_id"],
                case_no=case["case_no"],
                district_code=case["district_code"],
                payee_name=_payee_name(case),
                welfare_type_name=case.get("welfare_type_name"),
                account_name=bank["account_name"],
                bank_code=bank["bank_code"],
                branch_code=bank.get("branch_code"),
                account_no=bank["account_no"],
                phone=case.get("phone"),
                email=case.get("email"),
                amount_satang=to_satang(case["amount"]),
                state=LineState.PENDING,
                bank_updated_at=event.occurred_at,
            )
        )
    session.add_all(lines)
    batch.line_count = len(lines)
    batch.total_satang = sum(line.amount_satang for line in lines)
    if batch.total_satang != to_satang(p["total_amount"]) and not alerts:
        alerts.append(
            f"ยอดรวมของชุดอนุมัติ {money_str(p['total_amount'])} บาท"
            f" ไม่ตรงกับผลรวมรายการ {money_str(from_satang(batch.total_satang))} บาท"
        )
    session.flush()
    for message in alerts:
        session.add(
            PaymentAlert(
                batch_id=batch.id, district_code=batch.district_code, kind="batch_mismatch", message=message
            )
        )
    record_audit(
        session,
        Actor("system:batch.approved", "system"),
        action="payout_batch.open",
        object_type="payout_batch",
        object_id=batch.id,
        district_code=batch.district_code,
        after={
            "approval_batch_id": batch.approval_batch_id,
            "line_count": batch.line_count,
            "total": money_str(batch.total_amount),
        },
    )
    return batch


def follow_case_update(session: Session, event: Event) -> PayoutLine | None:
    """Take intake's new bank details for a line that is not paid or closed (stale events are ignored).

    A line inside a file whose outcome is unknown keeps the details that file was made with
    (the file lines hold their own snapshot); the new details are used by the next file.
    """
    p = event.payload
    if "bank" not in p["changed"] or not p.get("bank"):
        return None
    line = session.scalars(select(PayoutLine).where(PayoutLine.case_id == p["case_id"])).first()
    if line is None:
        return None
    lock_batch(session, line.batch_id)
    session.refresh(line)
    if line.state in domain.FINAL_STATES or event.occurred_at <= line.bank_updated_at:
        return None
    bank = p["bank"]
    current = (line.bank_code, line.branch_code, line.account_name, line.account_no)
    if current == (bank["bank_code"], bank.get("branch_code"), bank["account_name"], bank["account_no"]):
        return None  # intake echoing our own correction (payout.bank_details_corrected): nothing new
    before = bank_snapshot(line, masked=True)
    line.bank_code = bank["bank_code"]
    line.branch_code = bank.get("branch_code")
    line.account_name = bank["account_name"]
    line.account_no = bank["account_no"]
    line.bank_updated_at = event.occurred_at
    record_audit(
        session,
        Actor("system:case.updated", "system"),
        action="payout_line.bank_followed",
        object_type="payout_line",
        object_id=line.id,
        district_code=line.district_code,
        before=before,
        after=bank_snapshot(line, masked=True),
    )
    return line


# --- reading ---------------------------------------------------------------------------------------
def state_counts(session: Session, batch_ids: Sequence[int]) -> dict[int, dict[str, dict[str, Any]]]:
    """Per batch and state: count and amount."""
    out: dict[int, dict[str, dict[str, Any]]] = {bid: {} for bid in batch_ids}
    if not batch_ids:
        return out
    rows = session.execute(
        select(PayoutLine.batch_id, PayoutLine.state, func.count(), func.sum(PayoutLine.amount_satang))
        .where(PayoutLine.batch_id.in_(batch_ids))
        .group_by(PayoutLine.batch_id, PayoutLine.state)
    ).all()
    for batch_id, state, count, total in rows:
        out[batch_id][state] = {"count": int(count), "amount": from_satang(int(total or 0))}
    return out


def list_batches(
    session: Session, actor: Actor, *, status: str | None, district_code: str | None, page: int, per_page: int
) -> tuple[list[PayoutBatch], int]:
    """The batches the actor may see, newest first."""
    stmt: Select[tuple[PayoutBatch]] = select(PayoutBatch)
    if not actor.is_city_wide:
        stmt = stmt.where(PayoutBatch.district_code == actor.district_code)
    elif district_code:
        stmt = stmt.where(PayoutBatch.district_code == district_code)
    if status:
        stmt = stmt.where(PayoutBatch.status == status)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = session.scalars(
        stmt.order_by(PayoutBatch.created_at.desc(), PayoutBatch.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return list(items), int(total)


def batch_lines(session: Session, batch_id: int) -> list[PayoutLine]:
    """Every line of a batch, in case order."""
    return list(
        session.scalars(select(PayoutLine).where(PayoutLine.batch_id == batch_id).order_by(PayoutLine.id))
    )


def current_refs(session: Session, lines: Sequence[PayoutLine]) -> dict[int, FileLine]:
    """The latest transfer (file line) of each line."""
    ids = [line.current_file_line_id for line in lines if line.current_file_line_id]
    if not ids:
        return {}
    rows = session.scalars(select(FileLine).where(FileLine.id.in_(ids))).all()
    return {row.line_id: row for row in rows}


def batch_files(session: Session, batch_id: int) -> list[dict[str, Any]]:
    """The files of a batch with their unresolved-line and download counts."""
    files = session.scalars(
        select(PaymentFile).where(PaymentFile.batch_id == batch_id).order_by(PaymentFile.id)
    ).all()
    if not files:
        return []
    ids = [f.id for f in files]
    open_counts = dict(
        session.execute(
            select(FileLine.file_id, func.count())
            .where(FileLine.file_id.in_(ids), FileLine.outcome.in_(("pending", "review")))
            .group_by(FileLine.file_id)
        ).all()
    )
    downloads = dict(
        session.execute(
            select(FileDownload.file_id, func.count())
            .where(FileDownload.file_id.in_(ids))
            .group_by(FileDownload.file_id)
        ).all()
    )
    return [
        {"pf": f, "unresolved": int(open_counts.get(f.id, 0)), "downloads": int(downloads.get(f.id, 0))}
        for f in files
    ]


def open_alerts(session: Session, batch_id: int) -> list[PaymentAlert]:
    """Alerts of a batch not yet acknowledged."""
    return list(
        session.scalars(
            select(PaymentAlert)
            .where(PaymentAlert.batch_id == batch_id, PaymentAlert.acknowledged_at.is_(None))
            .order_by(PaymentAlert.id)
        )
    )


def review_summary(lines: Sequence[PayoutLine]) -> dict[str, Any]:
    """Totals of the final review list (บันทึกการจ่ายสำเร็จทั้งหมด)."""
    paid = [line for line in lines if line.state == LineState.PAID]
    closed = [line for line in lines if line.state == LineState.CLOSED_FAILED]
    blocking = [line for line in lines if line.state not in domain.FINAL_STATES]
    return {
        "count": len(lines),
        "total_amount": from_satang(sum(line.amount_satang for line in lines)),
        "paid_count": len(paid),
        "paid_total": from_satang(sum(line.amount_satang for line in paid)),
        "closed_count": len(closed),
        "closed_total": from_satang(sum(line.amount_satang for line in closed)),
        "outstanding_count": len(blocking),
        "can_settle": not blocking,
        "blocking": [
            {
                "id": line.id,
                "case_no": line.case_no,
                "state": line.state,
                "state_label": domain.state_label(line.state),
            }
            for line in blocking
        ],
    }


# --- settlement and alerts ------------------------------------------------------------------------
def settle_batch(session: Session, *, batch_id: int, actor: Actor) -> PayoutBatch:
    """Close a batch whose every line is paid or closed (บันทึกการจ่ายสำเร็จทั้งหมด); publishes batch.settled.

    :raises Conflict: already settled, or some lines are still outstanding.
    """
    batch = get_batch(session, batch_id, actor, lock=True)
    ensure_open(batch)
    lines = batch_lines(session, batch.id)
    summary = review_summary(lines)
    if not summary["can_settle"]:
        raise Conflict(
            f"ยังบันทึกการจ่ายสำเร็จทั้งหมดไม่ได้: มี {summary['outstanding_count']} รายการ"
            " ที่ยังไม่จ่ายสำเร็จหรือยังไม่ปิดรายการ",
            "lines_outstanding",
        )
    now = utcnow()
    batch.status, batch.settled_at, batch.settled_by = "settled", now, actor.username
    record_audit(
        session,
        actor,
        action="payout_batch.settle",
        object_type="payout_batch",
        object_id=batch.id,
        district_code=batch.district_code,
        before={"status": "open"},
        after={
            "status": "settled",
            "paid_count": summary["paid_count"],
            "paid_total": money_str(summary["paid_total"]),
            "closed_count": summary["closed_count"],
        },
    )
    publish_event(
        session,
        "batch.settled",
        {
            "approval_batch_id": batch.approval_batch_id,
            "payout_batch_id": str(batch.id),
            "district_code": batch.district_code,
            "settled_at": now.isoformat(),
            "settled_by": actor.username,
            "paid_count": summary["paid_count"],
            "paid_total": money_str(summary["paid_total"]),
            "closed_count": summary["closed_count"],
        },
    )
    return batch


def list_alerts(
    session: Session, actor: Actor, *, open_only: bool, batch_id: int | None
) -> list[PaymentAlert]:
    """Alerts the actor may see, newest first (at most 500)."""
    stmt = select(PaymentAlert)
    if not actor.is_city_wide:
        stmt = stmt.where(PaymentAlert.district_code == actor.district_code)
    if open_only:
        stmt = stmt.where(PaymentAlert.acknowledged_at.is_(None))
    if batch_id is not None:
        stmt = stmt.where(PaymentAlert.batch_id == batch_id)
    return list(session.scalars(stmt.order_by(PaymentAlert.id.desc()).limit(500)))


def acknowledge_alert(session: Session, *, alert_id: int, actor: Actor) -> PaymentAlert:
    """Mark an alert as seen and handled."""
    alert = session.get(PaymentAlert, alert_id)
    if alert is None or not is_visible(actor, alert.district_code):
        raise NotFound("ไม่พบการแจ้งเตือนที่ต้องการ")
    if alert.acknowledged_at is None:
        alert.acknowledged_at = utcnow()
        alert.acknowledged_by = actor.username
        record_audit(
            session,
            actor,
            action="payment_alert.acknowledge",
            object_type="payment_alert",
            object_id=alert.id,
            district_code=alert.district_code,
            after={"acknowledged_by": actor.username},
        )
    return alert


def list_imports(session: Session, batch_id: int) -> list[ResultImport]:
    """The result imports of a batch, newest first."""
    return list(
        session.scalars(
            select(ResultImport).where(ResultImport.batch_id == batch_id).order_by(ResultImport.id.desc())
        )
    )
