"""One payee's line: bank details corrected, closed as not paid, or a review decided."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from services.payment import domain, ktb
from services.payment.domain import LineState
from services.payment.models import FileLine, PayoutBatch, PayoutLine
from services.payment.services.common import (
    Actor,
    Conflict,
    bank_snapshot,
    ensure_open,
    get_line,
    publish_event,
    publish_failed,
    publish_paid,
    record_audit,
)
from shared.banks import ktb_receiving_fields, validate_bank_details
from shared.db import utcnow
from shared.errors import ValidationError


# --- lines: correction, closing, review -------------------------------------------------------------
def correct_bank_details(
    session: Session,
    *,
    line_id: int,
    bank_code: str,
    branch_code: str | None,
    account_name: str,
    account_no: str,
    actor: Actor,
) -> PayoutLine:
    """Correct a payee's bank details (failed, or pending and in no file); the next file uses them.

    :raises ValidationError: the new details break the bank rules (400 naming the field).
    :raises Conflict: the line is sent, in review, paid or closed.
    """
    line = get_line(session, line_id, actor, lock=True)
    batch = session.get(PayoutBatch, line.batch_id)
    assert batch is not None
    ensure_open(batch)
    try:
        domain.check_transition("correct_bank", line.state)
    except domain.InvalidTransition as exc:
        raise Conflict(exc.message, "invalid_state") from None
    code, branch, account = validate_bank_details(bank_code, branch_code, account_no)
    ktb_receiving_fields(code, branch, account)  # the account must also fit the KTB file (§7)
    try:
        name = ktb.check_text(account_name, label="ชื่อบัญชี", max_len=100)
    except ValidationError as exc:
        raise ValidationError(exc.message, field="account_name", code=exc.code) from None
    before = {**bank_snapshot(line, masked=True), "state": line.state}
    line.bank_code, line.branch_code, line.account_name, line.account_no = code, branch, name, account
    line.bank_updated_at = utcnow()
    line.state = LineState.PENDING
    record_audit(
        session,
        actor,
        action="payout_line.correct_bank",
        object_type="payout_line",
        object_id=line.id,
        district_code=line.district_code,
        before=before,
        after={**bank_snapshot(line, masked=True), "state": line.state},
    )
    publish_event(
        session,
        "payout.bank_details_corrected",
        {
            "case_id": line.case_id,
            "district_code": line.district_code,
            "bank": {"bank_code": code, "branch_code": branch, "account_name": name, "account_no": account},
            "by": actor.username,
            "at": line.bank_updated_at.isoformat(),
        },
    )
    return line


def close_failed(session: Session, *, line_id: int, reason: str, actor: Actor) -> PayoutLine:
    """Close a payee as not paid (จ่ายไม่สำเร็จ); the case becomes payment_failed (final).

    :raises Conflict: the line is sent, in review, paid or already closed.
    """
    line = get_line(session, line_id, actor, lock=True)
    batch = session.get(PayoutBatch, line.batch_id)
    assert batch is not None
    ensure_open(batch)
    try:
        domain.check_transition("close_failed", line.state)
    except domain.InvalidTransition as exc:
        raise Conflict(exc.message, "invalid_state") from None
    before = {"state": line.state}
    now = utcnow()
    line.state = LineState.CLOSED_FAILED
    line.closed_at, line.closed_by, line.close_reason = now, actor.username, reason
    line.last_outcome = f"ปิดรายการจ่ายไม่สำเร็จ: {reason}"[:500]
    record_audit(
        session,
        actor,
        action="payout_line.close_failed",
        object_type="payout_line",
        object_id=line.id,
        district_code=line.district_code,
        before=before,
        after={"state": line.state, "reason": reason},
    )
    publish_event(
        session,
        "payout.failed",
        {
            "case_id": line.case_id,
            "district_code": line.district_code,
            "approval_batch_id": batch.approval_batch_id,
            "reason": reason,
            "final": True,
            "at": now.isoformat(),
        },
    )
    return line


def resolve_review(session: Session, *, line_id: int, decision: str, reason: str, actor: Actor) -> PayoutLine:
    """Finance decides a line in review after checking with the bank: paid, or failed.

    :raises Conflict: the line is not in review.
    """
    line = get_line(session, line_id, actor, lock=True)
    batch = session.get(PayoutBatch, line.batch_id)
    assert batch is not None
    ensure_open(batch)
    try:
        domain.check_transition("resolve_review", line.state)
    except domain.InvalidTransition as exc:
        raise Conflict(exc.message, "invalid_state") from None
    fl = session.get(FileLine, line.current_file_line_id) if line.current_file_line_id else None
    assert fl is not None, "a line in review has a current transfer"
    now = utcnow()
    before = {"state": line.state}
    if decision == "paid":
        fl.outcome, fl.outcome_at, fl.reason = "paid", now, reason
        session.flush()  # the partial unique index refuses a second paid transfer here
        paid = session.execute(
            update(PayoutLine)
            .where(PayoutLine.id == line.id, PayoutLine.paid_at.is_(None))
            .values(
                state=LineState.PAID,
                paid_at=now,
                paid_ref2=fl.ref2,
                last_outcome=f"ตรวจสอบแล้ว: จ่ายสำเร็จ ({reason})"[:500],
            )
            .execution_options(synchronize_session=False)
        )
        if paid.rowcount != 1:
            raise Conflict("รายการนี้จ่ายสำเร็จไปแล้ว", "already_paid")
        session.refresh(line)
        publish_paid(session, batch, line)
    else:
        fl.outcome, fl.outcome_at, fl.reason = "failed", now, reason
        line.state = LineState.FAILED
        line.last_outcome = f"ตรวจสอบแล้ว: โอนไม่สำเร็จ ({reason})"[:500]
        publish_failed(session, batch, line, reason)
    record_audit(
        session,
        actor,
        action="payout_line.resolve_review",
        object_type="payout_line",
        object_id=line.id,
        district_code=line.district_code,
        before=before,
        after={"state": line.state, "reason": reason},
    )
    return line
