"""Payment rules without a database: line states, what a bank result does to a line, matching checks.

A payout line (one payee) moves::

    pending ──file made──▶ sent ──bank: SUCCESS──▶ paid (final)
       ▲                    │  └──bank: FAILED──▶ failed ──correct bank──▶ pending
       │                    │                       │  └──next file──▶ sent (new ref2)
       └──file cancelled────┘                       └──close──▶ closed_failed (final)
    sent ──unclear result / mismatch──▶ review ──finance decides──▶ paid | failed
    paid ──bank: REVERSED (the credit came back)──▶ reversed ──correct bank──▶ pending
                                                        └──close──▶ closed_failed (final)

``pending`` and ``failed`` lines are the ones the next file takes; a ``sent`` or ``review``
line is inside a file whose outcome is not known and is never put into another file unless
that file is cancelled.  ``closed_failed`` never changes again; ``paid`` changes only when the
bank reports a reversal of that very transfer (reliability P10).  A ``reversed`` line waits for
finance: it is not sent again by itself.

The reconciliation buckets of a batch (reliability P11) are derived from the line states:
``pending`` (pending, sent), ``paid``, ``failed`` (failed, closed_failed), ``reversed`` and
``exceptions_open`` (review: a person must decide); they add up to the batch's count and total.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = [
    "BUCKETS",
    "FINAL_STATES",
    "SENDABLE_STATES",
    "Decision",
    "InvalidTransition",
    "LineState",
    "Outcome",
    "accounts_match",
    "bucket_of",
    "buckets",
    "check_transition",
    "decide",
]


class LineState(StrEnum):
    """Where a payee's payment stands."""

    PENDING = "pending"
    SENT = "sent"
    PAID = "paid"
    FAILED = "failed"
    CLOSED_FAILED = "closed_failed"
    REVIEW = "review"
    REVERSED = "reversed"


class Outcome(StrEnum):
    """What a line of a result report did (reliability P8: they add up to the lines of the file)."""

    APPLIED = "applied"  # the payee became paid or failed
    REVIEW = "review"  # unclear status or mismatch: a person decides
    DUPLICATE = "duplicate"  # the same outcome was already recorded
    CONTRADICTION = "contradiction"  # disagrees with a final outcome: alert, nothing changes
    UNKNOWN_REFERENCE = "unknown_reference"  # matches no transfer of this batch
    AMBIGUOUS = "ambiguous"  # several transfers fit the account and amount
    REVERSED = "reversed"  # the bank reversed a paid transfer: the payee is reversed (P10)
    INVALID_REVERSAL = "invalid_reversal"  # a reversal of a transfer never paid: exception for finance


SENDABLE_STATES = frozenset({LineState.PENDING, LineState.FAILED})
FINAL_STATES = frozenset({LineState.PAID, LineState.CLOSED_FAILED})

#: Reliability P11: every line state belongs to exactly one bucket.
BUCKETS = ("pending", "paid", "failed", "reversed", "exceptions_open")
_BUCKET_OF = {
    LineState.PENDING: "pending",
    LineState.SENT: "pending",
    LineState.PAID: "paid",
    LineState.FAILED: "failed",
    LineState.CLOSED_FAILED: "failed",
    LineState.REVERSED: "reversed",
    LineState.REVIEW: "exceptions_open",
}


def bucket_of(state: str) -> str:
    """The P11 reconciliation bucket of a line state."""
    return _BUCKET_OF[LineState(state)]


def buckets(counts: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per-state ``{count, amount}`` summed into the P11 buckets (every bucket present)."""
    out: dict[str, dict[str, Any]] = {name: {"count": 0, "amount": 0} for name in BUCKETS}
    for state, c in counts.items():
        bucket = out[bucket_of(state)]
        bucket["count"] += c["count"]
        bucket["amount"] += c["amount"]
    return out


_ALLOWED: dict[str, frozenset[LineState]] = {
    "send": frozenset({LineState.PENDING, LineState.FAILED}),
    "cancel_file": frozenset({LineState.SENT}),
    "correct_bank": frozenset({LineState.PENDING, LineState.FAILED, LineState.REVERSED}),
    "close_failed": frozenset({LineState.PENDING, LineState.FAILED, LineState.REVERSED}),
    "resolve_review": frozenset({LineState.REVIEW}),
}
_STATE_TH = {
    LineState.PENDING: "รอจัดทำไฟล์",
    LineState.SENT: "อยู่ในไฟล์ที่ส่งธนาคารแล้ว รอผลการโอน",
    LineState.PAID: "จ่ายสำเร็จแล้ว",
    LineState.FAILED: "โอนไม่สำเร็จ",
    LineState.CLOSED_FAILED: "ปิดรายการจ่ายไม่สำเร็จแล้ว",
    LineState.REVIEW: "รอตรวจสอบผลการโอน",
    LineState.REVERSED: "ธนาคารโอนคืน (รายการถูกกลับ) รอแก้ไขข้อมูลบัญชีหรือปิดรายการ",
}
_ACTION_TH = {
    "send": "ใส่ในไฟล์โอนเงิน",
    "cancel_file": "ยกเลิกไฟล์",
    "correct_bank": "แก้ไขข้อมูลบัญชี",
    "close_failed": "บันทึกจ่ายไม่สำเร็จ",
    "resolve_review": "บันทึกผลการตรวจสอบ",
}


class InvalidTransition(Exception):
    """An action the line's state does not allow (HTTP 409)."""

    def __init__(self, action: str, state: str) -> None:
        label = _STATE_TH.get(LineState(state), state) if state in LineState.__members__.values() else state
        self.message = f"{_ACTION_TH.get(action, action)}ไม่ได้ เพราะรายการนี้{label}"
        super().__init__(self.message)


def check_transition(action: str, state: str) -> None:
    """Raise InvalidTransition unless ``action`` is allowed for a line in ``state``."""
    if state not in _ALLOWED[action]:
        raise InvalidTransition(action, state)


def state_label(state: str) -> str:
    """The Thai label of a state (for messages and the review list)."""
    try:
        return _STATE_TH[LineState(state)]
    except ValueError:
        return state


@dataclass(frozen=True)
class Decision:
    """What one matched result line does: the outcome and the new line / file-line states."""

    outcome: Outcome
    line_state: str | None = None  # None: unchanged
    file_line_outcome: str | None = None  # None: unchanged
    alert: str | None = None  # Thai message for finance when set


def decide(
    *, status: str, file_line_outcome: str, line_state: str, is_current: bool, mismatch: str | None
) -> Decision:
    """Apply §8.3 to one matched result line.

    ``status`` is SUCCESS / FAILED / REVERSED / UNKNOWN; ``file_line_outcome`` the transfer's
    recorded outcome (pending, paid, failed, review, cancelled, reversed); ``line_state`` the
    payee's state; ``is_current`` whether this transfer is the payee's latest one; ``mismatch``
    a description when bank, account or amount differ from what was sent (→ review, never paid).
    """
    if status == "REVERSED":
        return _decide_reversal(file_line_outcome, line_state, mismatch)
    if file_line_outcome == "reversed":
        # The success was recorded and then reversed: a success again is that same success
        # (an overlapping report); a failure contradicts it.
        if status == "FAILED":
            return Decision(
                Outcome.CONTRADICTION,
                alert="รายงานผลฉบับหลังระบุว่าโอนไม่สำเร็จ แต่ระบบบันทึกไว้ว่าโอนสำเร็จแล้วธนาคารโอนคืน"
                " ระบบไม่เปลี่ยนสถานะ กรุณาตรวจสอบกับธนาคาร",
            )
        return Decision(Outcome.DUPLICATE)
    final_here = file_line_outcome in ("paid", "failed")
    if file_line_outcome == "cancelled":
        if status == "SUCCESS":
            return Decision(
                Outcome.CONTRADICTION,
                alert="ธนาคารรายงานว่าโอนสำเร็จ ในรายการของไฟล์ที่ยกเลิกไปแล้ว กรุณาตรวจสอบว่ามีการจ่ายซ้ำหรือไม่",
            )
        return Decision(Outcome.DUPLICATE)
    if final_here:
        same = (status == "SUCCESS" and file_line_outcome == "paid") or (
            status == "FAILED" and file_line_outcome == "failed"
        )
        if same:
            return Decision(Outcome.DUPLICATE)
        if status == "UNKNOWN":
            return Decision(Outcome.DUPLICATE)
        recorded = "โอนสำเร็จ" if file_line_outcome == "paid" else "โอนไม่สำเร็จ"
        reported = "โอนสำเร็จ" if status == "SUCCESS" else "โอนไม่สำเร็จ"
        return Decision(
            Outcome.CONTRADICTION,
            alert=f"รายงานผลฉบับหลังระบุว่า{reported} แต่ระบบบันทึกไว้แล้วว่า{recorded}"
            " ระบบไม่เปลี่ยนสถานะ กรุณาตรวจสอบกับธนาคาร",
        )
    # The transfer has no final outcome yet (pending or review).
    if not is_current or line_state in FINAL_STATES:
        if status == "SUCCESS":
            return Decision(
                Outcome.CONTRADICTION,
                file_line_outcome="review",
                alert="ธนาคารรายงานว่าโอนสำเร็จ ในรายการที่ผู้รับเงินได้รับเงินหรือปิดรายการไปแล้ว"
                " กรุณาตรวจสอบว่ามีการจ่ายซ้ำหรือไม่",
            )
        return Decision(Outcome.DUPLICATE, file_line_outcome="failed" if status == "FAILED" else None)
    if mismatch is not None or status == "UNKNOWN":
        return Decision(Outcome.REVIEW, line_state=LineState.REVIEW, file_line_outcome="review")
    if status == "SUCCESS":
        return Decision(Outcome.APPLIED, line_state=LineState.PAID, file_line_outcome="paid")
    return Decision(Outcome.APPLIED, line_state=LineState.FAILED, file_line_outcome="failed")


def _decide_reversal(file_line_outcome: str, line_state: str, mismatch: str | None) -> Decision:
    """P10: a reversal moves a paid transfer (and its payee) to reversed, once."""
    if file_line_outcome == "reversed":
        return Decision(Outcome.DUPLICATE)
    if file_line_outcome != "paid":
        what = {
            "pending": "ยังไม่มีผลการโอน",
            "review": "รอตรวจสอบผลการโอน",
            "failed": "บันทึกไว้ว่าโอนไม่สำเร็จ",
            "cancelled": "อยู่ในไฟล์ที่ยกเลิกแล้ว",
        }.get(file_line_outcome, file_line_outcome)
        return Decision(
            Outcome.INVALID_REVERSAL,
            alert=f"ธนาคารรายงานการโอนคืน (กลับรายการ) ของรายการที่{what} ไม่เคยบันทึกว่าโอนสำเร็จ"
            " ระบบไม่เปลี่ยนสถานะ กรุณาตรวจสอบกับธนาคาร",
        )
    if mismatch is not None:
        return Decision(
            Outcome.CONTRADICTION,
            alert=f"ธนาคารรายงานการโอนคืนของรายการที่จ่ายสำเร็จแล้ว แต่ข้อมูลไม่ตรงกับที่ส่ง ({mismatch})"
            " ระบบยังถือว่าจ่ายสำเร็จ กรุณาตรวจสอบกับธนาคาร",
        )
    assert line_state == LineState.PAID, "a paid transfer belongs to a paid payee"
    return Decision(
        Outcome.REVERSED,
        line_state=LineState.REVERSED,
        file_line_outcome="reversed",
        alert="ธนาคารโอนเงินคืน (กลับรายการ) หลังจ่ายสำเร็จ กรุณาแก้ไขข้อมูลบัญชีเพื่อส่งใหม่ หรือปิดรายการจ่ายไม่สำเร็จ",
    )


def _last10(digits: str) -> str:
    return digits.lstrip("0")[-10:].zfill(10)


def accounts_match(reported: str, *sent: str) -> bool:
    """§8.3.2: compare the last 10 digits after stripping leading zeros, against any form we sent."""
    if not reported:
        return False
    want = _last10(reported)
    return any(s and _last10(s) == want for s in sent)
