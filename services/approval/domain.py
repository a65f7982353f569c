"""Approval's rules: agenda statuses and the committee's decisions, batch numbering and titles.

Plain Python: no Flask, no database session.  Services call these functions and turn the
errors they raise into HTTP answers (409 for a state that forbids the action, 422 for a rule).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from enum import StrEnum

from shared.districts import get_district
from shared.thai import fiscal_year

__all__ = [
    "BATCH_TITLE",
    "AgendaStatus",
    "BatchStatus",
    "Conflict",
    "DomainError",
    "NotFound",
    "RuleBroken",
    "batch_fiscal_year",
    "batch_title",
    "check_can_amend",
    "check_can_defer",
    "check_can_disqualify",
    "check_can_restore",
    "clean_reason",
    "next_batch_number",
    "refusal_message",
    "total_of",
]


class AgendaStatus(StrEnum):
    """Where a case stands with the committee."""

    ON_AGENDA = "on_agenda"  # waits for the next meeting (or is being locked when batch_id is set)
    DEFERRED = "deferred"  # นำออกจากที่ประชุมชั่วคราว: waits on the home list, can be restored
    DISQUALIFIED = "disqualified"  # บันทึกขาดคุณสมบัติ: final
    IN_BATCH = "in_batch"  # approved in an approval batch: final


class BatchStatus(StrEnum):
    """The life of an approval batch (a small saga with intake)."""

    LOCKING = "locking"  # approval asked intake to lock the cases
    APPROVED = "approved"  # intake locked them; batch.approved was published
    FAILED = "failed"  # intake refused; nothing stays locked, the cases are back on the agenda
    SETTLED = "settled"  # payment settled every payee of the batch


class DomainError(Exception):
    """A rule of approval refused an action; ``message`` is Thai, for the person who asked."""

    status = 400

    def __init__(self, message: str, *, code: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


class Conflict(DomainError):
    """The object's state does not allow the action (HTTP 409)."""

    status = 409


class RuleBroken(DomainError):
    """A business rule is broken (HTTP 422)."""

    status = 422


class NotFound(DomainError):
    """No such object for this caller (HTTP 404)."""

    status = 404


# The batch's name, as the manual prints it: "รายการอนุมัติให้ความช่วยเหลือสำนักงานเขต ครั้งที่1-
# ปีงบประมาณ2566" (manual §5, report list; the screenshot's district name is blank there).
BATCH_TITLE = "รายการอนุมัติให้ความช่วยเหลือสำนักงานเขต{district} ครั้งที่{number}-ปีงบประมาณ{fiscal_year}"


def batch_title(district_code: str, number: int, fiscal_year_be: int) -> str:
    """The batch's Thai title, e.g. "รายการอนุมัติให้ความช่วยเหลือสำนักงานเขตพระนคร ครั้งที่1-ปีงบประมาณ2566"."""
    district = get_district(district_code)
    name = district.name_th if district is not None else district_code
    return BATCH_TITLE.format(district=name, number=number, fiscal_year=fiscal_year_be)


def batch_fiscal_year(meeting_date: dt.date) -> int:
    """A batch belongs to the fiscal year (B.E.) of the meeting that approved it."""
    return fiscal_year(meeting_date)


def next_batch_number(approved_numbers: Iterable[int | None]) -> int:
    """The next ครั้งที่ of a district's fiscal year: one more than the highest approved batch."""
    return max((n for n in approved_numbers if n is not None), default=0) + 1


def _is_locking(batch_id: str | None, status: str) -> bool:
    return status == AgendaStatus.ON_AGENDA and batch_id is not None


def _state_conflict(status: str, batch_id: str | None) -> Conflict:
    if _is_locking(batch_id, status):
        return Conflict(
            "เคสนี้อยู่ระหว่างการจัดทำรายการอนุมัติ ไม่สามารถแก้ไขได้จนกว่าการอนุมัติจะเสร็จสิ้น",
            code="case_locking",
        )
    messages = {
        AgendaStatus.ON_AGENDA: ("เคสนี้อยู่ในที่ประชุมอยู่แล้ว", "on_agenda"),
        AgendaStatus.DEFERRED: ("เคสนี้ถูกนำออกจากที่ประชุมชั่วคราวแล้ว", "case_deferred"),
        AgendaStatus.DISQUALIFIED: ("เคสนี้ถูกบันทึกขาดคุณสมบัติแล้ว ไม่สามารถเปลี่ยนแปลงได้", "case_disqualified"),
        AgendaStatus.IN_BATCH: ("เคสนี้ได้รับการอนุมัติในรายการอนุมัติแล้ว ไม่สามารถเปลี่ยนแปลงได้", "case_in_batch"),
    }
    message, code = messages.get(AgendaStatus(status), ("สถานะของเคสไม่อนุญาตให้ทำรายการนี้", "conflict"))
    return Conflict(message, code=code)


def check_can_defer(status: str, batch_id: str | None) -> None:
    """Only a case waiting on the agenda (not being locked) can be taken off it for now."""
    if status != AgendaStatus.ON_AGENDA or batch_id is not None:
        error = _state_conflict(status, batch_id)
        if status != AgendaStatus.ON_AGENDA:
            error.message = f"นำออกจากที่ประชุมไม่ได้: {error.message} (เคสต้องอยู่ในรายการที่ประชุม)"
        raise error


def check_can_restore(status: str, batch_id: str | None) -> None:
    """Only a deferred case can be put back on the agenda."""
    if status != AgendaStatus.DEFERRED:
        error = _state_conflict(status, batch_id)
        error.message = f"นำกลับเข้าที่ประชุมไม่ได้: {error.message} (เคสต้องถูกนำออกจากที่ประชุมชั่วคราว)"
        raise error


def check_can_disqualify(status: str, batch_id: str | None) -> None:
    """A case on the agenda or deferred (manual: also from the home list) can be disqualified."""
    if status not in (AgendaStatus.ON_AGENDA, AgendaStatus.DEFERRED) or _is_locking(batch_id, status):
        error = _state_conflict(status, batch_id)
        error.message = f"บันทึกขาดคุณสมบัติไม่ได้: {error.message}"
        raise error


def check_can_amend(status: str, batch_id: str | None) -> None:
    """The committee may change the welfare type and amount of a case on the agenda or deferred."""
    if status not in (AgendaStatus.ON_AGENDA, AgendaStatus.DEFERRED) or _is_locking(batch_id, status):
        error = _state_conflict(status, batch_id)
        error.message = f"แก้ไขประเภทเงินสงเคราะห์หรือจำนวนเงินไม่ได้: {error.message}"
        raise error


def clean_reason(reason: str | None) -> str:
    """The reason a case is not qualified: required, trimmed, at most 1,000 characters."""
    text = (reason or "").strip()
    if not text:
        raise DomainError("กรุณาระบุสาเหตุการขาดคุณสมบัติ", code="reason_required", field="reason")
    if len(text) > 1000:
        raise DomainError("สาเหตุการขาดคุณสมบัติยาวเกิน 1,000 ตัวอักษร", code="reason_too_long", field="reason")
    return text


def total_of(amounts: Iterable[Decimal]) -> Decimal:
    """Sum exact baht amounts (an empty list sums to 0.00)."""
    return sum(amounts, Decimal("0.00"))


def refusal_message(refusals: Sequence[Mapping[str, object]]) -> str:
    """The head's message when intake refuses the lock: which cases and why."""
    parts = [f"{r.get('case_no') or r.get('case_id')}: {r.get('reason')}" for r in refusals]
    return (
        "ไม่สามารถจัดทำรายการอนุมัติได้ เนื่องจากมีเคสที่ถูกแก้ไขหรือถอนออกระหว่างดำเนินการ "
        f"จำนวน {len(refusals)} เคส ({'; '.join(parts)}) — รายการที่ประชุมยังคงเดิม "
        "กรุณาตรวจสอบเคสดังกล่าวแล้วจัดทำรายการอนุมัติใหม่"
    )
