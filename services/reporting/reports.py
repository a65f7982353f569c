"""The printed documents as data: what each one says, independent of PDF or XLSX.

``reports.approval_report(...)`` etc. read the read models and return a :class:`Document`;
``pdf.render`` and ``xlsx.render`` lay the same Document out, so both formats always agree.
Layout text comes from the district's template (``domain.DEFAULT_TEMPLATES`` + override).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.reporting import domain
from services.reporting.domain import Conflict, NotFound, fill, full_name
from services.reporting.models import RptBatch, RptBatchPayee, RptCase, RptTemplate, RptWelfareType
from shared.auth import Principal
from shared.banks import get_bank
from shared.db import utcnow
from shared.districts import get_district
from shared.thai import baht_text, format_baht, format_be_date_long

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Column:
    """A table column: heading, relative width, and the kind of its values.

    ``kind`` is ``text``, ``code`` (digits kept as text: accounts, bank codes, case numbers),
    ``money`` (Decimal; numeric in XLSX) or ``int``.
    """

    header: str
    weight: float
    kind: str = "text"

    @property
    def align(self) -> str:
        return {"money": "R", "int": "C", "code": "L"}.get(self.kind, "L")


@dataclass
class Document:
    """A printable document: title block, one table, totals, signatures."""

    name: str  # ASCII file name without extension
    sheet_name: str
    title: str
    header_lines: list[str]
    summary_lines: list[str]
    columns: list[Column]
    rows: list[list[Any]]
    total_row: list[Any] | None = None
    words_line: str | None = None
    signatures: list[dict[str, str]] = field(default_factory=list)
    footer_lines: list[str] = field(default_factory=list)
    orientation: str = "L"
    font_size: int = 12
    created_at: dt.datetime = field(default_factory=utcnow)
    subject: str = ""


# --- access --------------------------------------------------------------------------------------
def visible_batch(session: Session, batch_id: str, principal: Principal) -> RptBatch:
    """A batch the caller may see, approved; 404 for unknown or another district's, 409 if never approved."""
    batch = session.get(RptBatch, batch_id)
    if batch is None or not principal.can_see_district(batch.district_code):
        raise NotFound("ไม่พบรายการอนุมัตินี้")
    if batch.approved_at is None:
        raise Conflict("รายการอนุมัตินี้ยังไม่ได้รับการอนุมัติหรืออนุมัติไม่สำเร็จ จึงยังไม่มีรายงาน", code="batch_not_approved")
    return batch


def _template(session: Session, doc: str, district_code: str) -> dict[str, Any]:
    override = session.get(RptTemplate, (district_code, doc))
    return domain.effective_template(doc, override.data if override is not None else None)


def _district_name(code: str) -> str:
    district = get_district(code)
    return district.name_th if district else code


def _batch_values(batch: RptBatch) -> dict[str, str]:
    return {
        "district_name": _district_name(batch.district_code),
        "district_code": batch.district_code,
        "batch_title": batch.title or "",
        "batch_number": str(batch.number or ""),
        "fiscal_year": str(batch.fiscal_year or ""),
        "meeting_date": format_be_date_long(batch.meeting_date) if batch.meeting_date else "",
        "approved_date": format_be_date_long(domain.bangkok_date(batch.approved_at))
        if batch.approved_at
        else "",
    }


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:80] or "x"


def _count_line(count: int, total: Decimal) -> str:
    """ "จำนวน 2 ราย เป็นเงิน 8,000.00 บาท" (the manual's line, with thousands separators and satang)."""
    return f"จำนวน {count:,} ราย เป็นเงิน {format_baht(total)} บาท"


def _words(total: Decimal) -> str:
    return f"({baht_text(total)})"


def _signatures(template: dict[str, Any], values: dict[str, str]) -> list[dict[str, str]]:
    return [
        {k: fill(str(sig.get(k) or ""), values) for k in ("label", "name", "position")}
        for sig in template.get("signatures") or []
    ]


def _apply_template(doc: Document, template: dict[str, Any], values: dict[str, str]) -> Document:
    doc.title = fill(template["title"], values)
    doc.header_lines = [fill(line, values) for line in template["header_lines"]]
    doc.signatures = _signatures(template, values)
    doc.footer_lines = [fill(line, values) for line in template.get("footer_lines") or []]
    doc.orientation = template.get("orientation", "L")
    doc.font_size = int(template.get("font_size", 12))
    return doc


def _payees(session: Session, batch_id: str) -> list[tuple[RptBatchPayee, RptCase | None]]:
    stmt = (
        select(RptBatchPayee, RptCase)
        .outerjoin(RptCase, RptCase.case_id == RptBatchPayee.case_id)
        .where(RptBatchPayee.batch_id == batch_id)
        .order_by(RptBatchPayee.seq)
    )
    return [(p, c) for p, c in session.execute(stmt).all()]


def _regulation_columns(template: dict[str, Any]) -> list[Column]:
    return [
        Column("ลำดับที่", 16, "int"),
        Column("ชื่อ - นามสกุล", 62),
        Column("สำนักงานเขต", 40),
        Column("การให้ความช่วยเหลือ", 76),
        Column("จำนวนเงิน", 26, "money"),
        Column(template.get("regulation_heading") or domain.REGULATION_HEADING, 62),
    ]


# --- the approval report ---------------------------------------------------------------------------
def approval_report(session: Session, *, batch_id: str, principal: Principal) -> Document:
    """รายชื่อผู้ประสบปัญหาความเดือดร้อนที่ผ่านการพิจารณาให้ความช่วยเหลือ of one approval batch."""
    batch = visible_batch(session, batch_id, principal)
    template = _template(session, "approval-report", batch.district_code)
    values = _batch_values(batch)
    lines = _payees(session, batch.batch_id)
    district = values["district_name"]
    rows = [
        [
            i,
            full_name(p.title, p.first_name, p.last_name),
            district,
            p.welfare_type_name,
            p.amount,
            p.regulation_ref or "",
        ]
        for i, (p, _c) in enumerate(lines, start=1)
    ]
    total = sum((p.amount for p, _c in lines), ZERO)
    doc = Document(
        name=f"approval-report-{_safe_name(batch.batch_id)}",
        sheet_name="รายงานขออนุมัติ",
        title="",
        header_lines=[],
        summary_lines=[_count_line(len(rows), total)],
        columns=_regulation_columns(template),
        rows=rows,
        total_row=["", "รวมทั้งสิ้น", "", f"{len(rows):,} ราย", total, ""],
        words_line=_words(total),
        created_at=batch.approved_at or utcnow(),
        subject=batch.title or batch.batch_id,
    )
    return _apply_template(doc, template, values)


# --- bank forms ------------------------------------------------------------------------------------
def _bank_lines(session: Session, batch: RptBatch, group: str) -> list[tuple[RptBatchPayee, RptCase | None]]:
    return [
        (p, c)
        for p, c in _payees(session, batch.batch_id)
        if domain.bank_group(c.bank_code if c else None) == group
    ]


def _bank_name(code: str | None) -> str:
    bank = get_bank(code) if code else None
    return bank.name_th if bank else (code or "")


def bank_form(session: Session, *, batch_id: str, form: str, group: str, principal: Principal) -> Document:
    """แบบ ทค.1 (``form="tk1"``) or แบบ K-Corp 2 (``form="kcorp2"``) for KTB or other-bank payees.

    The official layouts are not public; these are templates a district can adjust (docs/reporting.md).
    Account numbers are printed in full: only the owning district and the central office get here.
    """
    batch = visible_batch(session, batch_id, principal)
    template = _template(session, form, batch.district_code)
    values = {**_batch_values(batch), "group_name": domain.GROUP_NAMES[group]}
    lines = _bank_lines(session, batch, group)
    total = sum((p.amount for p, _c in lines), ZERO)
    if form == "tk1":
        columns = [
            Column("ลำดับที่", 16, "int"),
            Column("ชื่อ - นามสกุล ผู้มีสิทธิ", 58),
            Column("ชื่อบัญชี", 52),
            Column("ธนาคาร", 44),
            Column("สาขา", 16, "code"),
            Column("เลขที่บัญชี", 34, "code"),
            Column("จำนวนเงิน (บาท)", 28, "money"),
        ]
        rows = [
            [
                i,
                full_name(p.title, p.first_name, p.last_name),
                (c.account_name if c else "") or "",
                _bank_name(c.bank_code if c else None),
                (c.branch_code if c else None) or "-",
                (c.account_no if c else "") or "",
                p.amount,
            ]
            for i, (p, c) in enumerate(lines, start=1)
        ]
        total_row = ["", "รวมทั้งสิ้น", f"{len(rows):,} ราย", "", "", "", total]
    else:
        columns = [
            Column("ลำดับที่", 16, "int"),
            Column("รหัสธนาคาร", 20, "code"),
            Column("ชื่อธนาคาร", 44),
            Column("เลขที่บัญชีผู้รับ", 34, "code"),
            Column("ชื่อบัญชีผู้รับ", 60),
            Column("จำนวนเงินที่โอน (บาท)", 30, "money"),
            Column("เลขที่อ้างอิง", 30, "code"),
        ]
        rows = [
            [
                i,
                (c.bank_code if c else "") or "",
                _bank_name(c.bank_code if c else None),
                (c.account_no if c else "") or "",
                (c.account_name if c else "") or full_name(p.title, p.first_name, p.last_name),
                p.amount,
                p.case_no,
            ]
            for i, (p, c) in enumerate(lines, start=1)
        ]
        total_row = ["", "", "รวมทั้งสิ้น", f"{len(rows):,} ราย", "", total, ""]
    label = "tk1" if form == "tk1" else "kcorp2"
    doc = Document(
        name=f"{label}-{group}-{_safe_name(batch.batch_id)}",
        sheet_name="ทค.1" if form == "tk1" else "K-Corp 2",
        title="",
        header_lines=[],
        summary_lines=[_count_line(len(rows), total)],
        columns=columns,
        rows=rows,
        total_row=total_row,
        words_line=f"จำนวนเงินรวม (ตัวอักษร) {_words(total)}",
        created_at=batch.approved_at or utcnow(),
        subject=batch.title or batch.batch_id,
    )
    return _apply_template(doc, template, values)


# --- the payment review list -------------------------------------------------------------------------
PAY_STATE_NAMES = {
    "paid": "จ่ายสำเร็จ",
    "failed": "โอนไม่สำเร็จ รอแก้ไขและโอนใหม่",
    "closed_failed": "จ่ายไม่สำเร็จ (ปิดรายการ)",
    "reversed": "ธนาคารตีกลับการโอน รอแก้ไขข้อมูลบัญชี",
    None: "รอโอนเงิน",
}


def _pay_state_text(case: RptCase | None) -> str:
    state = case.pay_state if case else None
    text = PAY_STATE_NAMES.get(state, state or "")
    if case is not None and state == "paid" and case.paid_at:
        text += f" {format_be_date_long(domain.bangkok_date(case.paid_at))}"
    if case is not None and state in ("failed", "closed_failed", "reversed") and case.failure_reason:
        text += f": {case.failure_reason}"
    return text


def payment_review(session: Session, *, batch_id: str, principal: Principal) -> Document:
    """รายชื่อ...สำหรับบันทึกการจ่ายเงินให้ประชาชน: every payee with its payment state, before settling."""
    batch = visible_batch(session, batch_id, principal)
    template = _template(session, "payment-review", batch.district_code)
    values = _batch_values(batch)
    lines = _payees(session, batch.batch_id)
    district = values["district_name"]
    columns = [*_regulation_columns(template), Column("สถานะการจ่ายเงิน", 50)]
    columns[1] = Column("ชื่อ - นามสกุล", 52)
    columns[3] = Column("การให้ความช่วยเหลือ", 64)
    columns[5] = Column(columns[5].header, 50)
    rows = [
        [
            i,
            full_name(p.title, p.first_name, p.last_name),
            district,
            p.welfare_type_name,
            p.amount,
            p.regulation_ref or "",
            _pay_state_text(c),
        ]
        for i, (p, c) in enumerate(lines, start=1)
    ]
    total = sum((p.amount for p, _c in lines), ZERO)
    by_state: dict[str | None, tuple[int, Decimal]] = {}
    for p, c in lines:
        state = c.pay_state if c else None
        n, amount = by_state.get(state, (0, ZERO))
        by_state[state] = (n + 1, amount + p.amount)
    state_line = "  ".join(
        f"{PAY_STATE_NAMES[s]} {by_state[s][0]:,} ราย {format_baht(by_state[s][1])} บาท"
        for s in ("paid", "failed", "reversed", "closed_failed", None)
        if s in by_state
    )
    doc = Document(
        name=f"payment-review-{_safe_name(batch.batch_id)}",
        sheet_name="บันทึกการจ่ายเงิน",
        title="",
        header_lines=[],
        summary_lines=[_count_line(len(rows), total), *([state_line] if state_line else [])],
        columns=columns,
        rows=rows,
        total_row=["", "รวมทั้งสิ้น", "", f"{len(rows):,} ราย", total, "", ""],
        words_line=_words(total),
        created_at=batch.approved_at or utcnow(),
        subject=batch.title or batch.batch_id,
    )
    return _apply_template(doc, template, values)


# --- the committee's agenda ---------------------------------------------------------------------------
def agenda(session: Session, *, district_code: str, principal: Principal) -> Document:
    """The cases of a district waiting for the committee (พิมพ์รายชื่อเคส), from the read model."""
    if get_district(district_code) is None or not principal.can_see_district(district_code):
        raise NotFound("ไม่พบเขตนี้")
    template = _template(session, "agenda", district_code)
    now = utcnow()
    values = {
        "district_name": _district_name(district_code),
        "district_code": district_code,
        "as_of": format_be_date_long(domain.bangkok_date(now)),
    }
    cases = session.scalars(
        select(RptCase)
        .where(
            RptCase.district_code == district_code,
            RptCase.status == "on_agenda",
            RptCase.case_no.is_not(None),
        )
        .order_by(RptCase.registered_at, RptCase.case_no)
    ).all()
    names = dict(session.execute(select(RptWelfareType.code, RptWelfareType.name_th)).all())
    refs = dict(session.execute(select(RptWelfareType.code, RptWelfareType.regulation_ref)).all())
    rows = []
    total = ZERO
    for i, c in enumerate(cases, start=1):
        amount = c.amount_current if c.amount_current is not None else (c.amount_requested or ZERO)
        total += amount
        code = c.welfare_type_code or ""
        rows.append(
            [
                i,
                full_name(c.title, c.first_name, c.last_name),
                values["district_name"],
                c.welfare_type_name or names.get(code, code),
                amount,
                c.regulation_ref or refs.get(code) or "",
            ]
        )
    doc = Document(
        name=f"agenda-{district_code}",
        sheet_name="รายการเข้าที่ประชุม",
        title="",
        header_lines=[],
        summary_lines=[_count_line(len(rows), total)],
        columns=_regulation_columns(template),
        rows=rows,
        total_row=["", "รวมทั้งสิ้น", "", f"{len(rows):,} ราย", total, ""],
        words_line=_words(total),
        created_at=now,
        subject=f"agenda {district_code}",
    )
    return _apply_template(doc, template, values)


# --- the batches of the report menu --------------------------------------------------------------------
def list_batches(
    session: Session, *, district_code: str | None, fiscal_year: int | None, page: int, per_page: int
) -> tuple[list[RptBatch], int]:
    """Approval batches (newest first) for พิมพ์รายงานการอนุมัติย้อนหลัง."""
    stmt = select(RptBatch).where(RptBatch.approved_at.is_not(None))
    if district_code is not None:
        stmt = stmt.where(RptBatch.district_code == district_code)
    if fiscal_year is not None:
        stmt = stmt.where(RptBatch.fiscal_year == fiscal_year)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(RptBatch.approved_at.desc(), RptBatch.batch_id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return list(rows), int(total)
