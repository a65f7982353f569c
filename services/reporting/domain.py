"""Reporting's pure rules: how events fold into a case, summary groups, document templates.

No Flask, no database session: the consumers in ``services.py`` and the documents in
``reports.py`` call these.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from shared.banks import KTB_CODE
from shared.money import to_satang

FISCAL_YEAR_MIN = 2500
FISCAL_YEAR_MAX = 2700
BANGKOK = dt.timezone(dt.timedelta(hours=7), "Asia/Bangkok")
ZERO = Decimal("0.00")

# --- errors ------------------------------------------------------------------------------------


class DomainError(Exception):
    """A request reporting cannot answer: HTTP status, Thai message, stable code."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class NotFound(DomainError):
    """Unknown object, or an object of another district (its existence is not revealed)."""

    status = 404
    code = "not_found"


class Conflict(DomainError):
    """The object exists but is not in a state that has this document."""

    status = 409
    code = "conflict"


# --- case status ---------------------------------------------------------------------------------

#: How far along its life a status is.  A status never gives way to one of a lower rank, so a
#: late ``case.updated`` (intake's view, perhaps stale) cannot take an approved case back to
#: the agenda; statuses of the same rank (on the agenda / deferred) follow event time.  The
#: payment statuses (paying, reversed, paid, payment failed) are set by the payout events from
#: the payee's payment state instead (``services._set_pay``): a reversal takes a paid case back.
STATUS_RANK = {
    "registered": 0,
    "on_agenda": 1,
    "deferred": 1,
    "disqualified": 2,
    "approved": 2,
    "paying": 3,
    "reversed": 3,
    "paid": 4,
    "payment_failed": 4,
}
APPROVED_STATUSES = ("approved", "paying", "reversed", "paid", "payment_failed")

STATUS_NAMES = {
    "registered": "บันทึกข้อมูลแล้ว",
    "on_agenda": "รอเข้าที่ประชุม",
    "deferred": "นำออกจากที่ประชุมชั่วคราว",
    "disqualified": "ขาดคุณสมบัติ",
    "approved": "อนุมัติแล้ว รอโอนเงิน",
    "paying": "อยู่ระหว่างการโอนเงิน",
    "paid": "จ่ายเงินสำเร็จ",
    "payment_failed": "จ่ายไม่สำเร็จ",
    "reversed": "ธนาคารตีกลับการโอน รอแก้ไขข้อมูลบัญชี",
}


def is_newer(at: dt.datetime, guard: dt.datetime | None) -> bool:
    """True when an event that occurred at ``at`` may overwrite facts set at ``guard``."""
    return guard is None or at >= guard


def status_may_change(
    current: str | None, current_at: dt.datetime | None, new: str, new_at: dt.datetime
) -> bool:
    """Whether an event saying ``new`` (at ``new_at``) replaces the case's ``current`` status."""
    if current is None:
        return True
    if current == new:
        return False
    old_rank, new_rank = STATUS_RANK.get(current, 0), STATUS_RANK.get(new, 0)
    if new_rank != old_rank:
        return new_rank > old_rank
    return is_newer(new_at, current_at)


def bangkok_date(at: dt.datetime) -> dt.date:
    """The calendar day in Bangkok of a UTC timestamp (daily counts follow the office's day)."""
    return at.astimezone(BANGKOK).date()


# --- summary groups ------------------------------------------------------------------------------


class CaseFacts(Protocol):
    """What a case contributes to the summary (an ``RptCase`` row satisfies it)."""

    fiscal_year: int | None
    district_code: str
    welfare_type_code: str | None
    registered_month: str | None
    registered_on: dt.date | None
    status: str | None
    amount_requested: Decimal | None
    amount_approved: Decimal | None
    paid_amount: Decimal | None


#: The dimensions of ``rpt_summary_totals``; by district and by fiscal year read the status rows.
DIMENSIONS = ("status", "welfare_type", "month")
#: The figures of a summary row, in the order of ``Contribution.measures``.
MEASURES = (
    "case_count",
    "requested_satang",
    "approved_count",
    "approved_satang",
    "paid_count",
    "paid_satang",
    "failed_count",
    "failed_satang",
)


@dataclass(frozen=True)
class Contribution:
    """One case's share of the summary: the rows it counts in and its figures (amounts in satang)."""

    keys: tuple[tuple[int, str, str, str], ...]  # (fiscal year, district, dimension, key) per dimension
    measures: tuple[int, ...]  # in the order of MEASURES


def contribution(case: CaseFacts) -> Contribution | None:
    """Where a case counts in the summary and with what; None until its snapshot has arrived."""
    if (
        case.fiscal_year is None
        or case.welfare_type_code is None
        or case.registered_month is None
        or case.status is None
        or case.amount_requested is None
    ):
        return None
    fy, district = case.fiscal_year, case.district_code
    approved = case.status in APPROVED_STATUSES and case.amount_approved is not None
    approved_satang = to_satang(case.amount_approved) if approved and case.amount_approved is not None else 0
    paid = case.status == "paid" and case.paid_amount is not None
    failed = case.status == "payment_failed"
    return Contribution(
        keys=(
            (fy, district, "status", case.status),
            (fy, district, "welfare_type", case.welfare_type_code),
            (fy, district, "month", case.registered_month),
        ),
        measures=(
            1,
            to_satang(case.amount_requested),
            1 if case.status in APPROVED_STATUSES else 0,
            approved_satang,
            1 if paid else 0,
            to_satang(case.paid_amount) if paid and case.paid_amount is not None else 0,
            1 if failed else 0,
            approved_satang if failed else 0,
        ),
    )


def intake_day(case: CaseFacts) -> tuple[int, str, dt.date] | None:
    """The (fiscal year, district, day) a case counts in for daily intake; None without a snapshot."""
    if case.fiscal_year is None or case.registered_on is None:
        return None
    return (case.fiscal_year, case.district_code, case.registered_on)


def share_percent(part: Decimal, whole: Decimal | None) -> Decimal | None:
    """``part`` as a percentage of ``whole`` with 2 decimals; None without an allocation."""
    if whole is None or whole <= 0:
        return None
    return (part * 100 / whole).quantize(Decimal("0.01"))


# --- banks -------------------------------------------------------------------------------------

BANK_GROUPS = ("ktb", "other")
GROUP_NAMES = {
    "ktb": "ผู้รับเงินที่มีบัญชีธนาคารกรุงไทย",
    "other": "ผู้รับเงินที่มีบัญชีธนาคารอื่น",
}


def bank_group(bank_code: str | None) -> str:
    """``ktb`` for Krungthai payees (paid inside KTB), ``other`` for every other bank."""
    return "ktb" if bank_code == KTB_CODE else "other"


def full_name(title: str | None, first_name: str | None, last_name: str | None) -> str:
    """ "เด็กชาย ทดสอบ1 ทดสอบ1" as the manual's report prints it."""
    return " ".join(part.strip() for part in (title, first_name, last_name) if part and part.strip())


# --- document templates --------------------------------------------------------------------------

DOCS = ("approval-report", "tk1", "kcorp2", "agenda", "payment-review")

#: The heading of the approval report's last column, as in the manual; "\n" breaks the line.
REGULATION_HEADING = (
    "เบิกจ่ายตามระเบียบ กรุงเทพมหานคร\nว่าด้วยค่าใช้จ่ายในการจัดสวัสดิการ\nและการสงเคราะห์ พ.ศ.2557"
    "\nและที่แก้ไขเพิ่มเติม (ฉบับที่ 2) พ.ศ.2564"
)
_BLANK_NAME = "(.................................................)"
_FORM_SIGNATURES = [
    {"label": "ผู้จัดทำ", "name": _BLANK_NAME, "position": "เจ้าหน้าที่ฝ่ายพัฒนาชุมชนและสวัสดิการสังคม"},
    {"label": "ผู้ตรวจสอบ", "name": _BLANK_NAME, "position": "หัวหน้าฝ่ายพัฒนาชุมชนและสวัสดิการสังคม"},
    {"label": "ผู้อนุมัติ", "name": _BLANK_NAME, "position": "ผู้อำนวยการเขต{district_name}"},
]

#: The layout text of every document.  A district's override (``PUT /templates/{doc}``) replaces
#: any of these keys; placeholders in braces are filled from the document's data.
DEFAULT_TEMPLATES: dict[str, dict[str, Any]] = {
    "approval-report": {
        "title": "รายชื่อผู้ประสบปัญหาความเดือดร้อนที่ผ่านการพิจารณาให้ความช่วยเหลือ",
        "header_lines": [
            "สำนักงานเขต{district_name}",
            "{batch_title}",
            "ประชุมวันที่ {meeting_date}  อนุมัติวันที่ {approved_date}",
        ],
        "regulation_heading": REGULATION_HEADING,
        "signatures": [],
        "footer_lines": [],
        "orientation": "L",
        "font_size": 12,
    },
    "agenda": {
        "title": "รายชื่อผู้ประสบปัญหาความเดือดร้อนที่ผ่านการพิจารณาให้ความช่วยเหลือ",
        "header_lines": ["รายการเคสที่นำเข้าสู่ที่ประชุมสำนักงานเขต{district_name}", "ข้อมูล ณ วันที่ {as_of}"],
        "regulation_heading": REGULATION_HEADING,
        "signatures": [],
        "footer_lines": [],
        "orientation": "L",
        "font_size": 12,
    },
    "payment-review": {
        "title": "รายชื่อผู้ประสบปัญหาความเดือดร้อนสำหรับบันทึกการจ่ายเงินให้ประชาชน",
        "header_lines": ["สำนักงานเขต{district_name}", "{batch_title}"],
        "regulation_heading": REGULATION_HEADING,
        "signatures": [],
        "footer_lines": [],
        "orientation": "L",
        "font_size": 12,
    },
    "tk1": {
        "title": "แบบ ทค.1",
        "header_lines": [
            "รายละเอียดการโอนเงินเข้าบัญชีเงินฝากธนาคารของผู้มีสิทธิรับเงินสงเคราะห์",
            "{group_name}",
            "สำนักงานเขต{district_name}  {batch_title}  อนุมัติวันที่ {approved_date}",
        ],
        "signatures": copy.deepcopy(_FORM_SIGNATURES),
        "footer_lines": [],
        "orientation": "L",
        "font_size": 12,
    },
    "kcorp2": {
        "title": "แบบ K-Corp 2",
        "header_lines": [
            "รายการโอนเงินเข้าบัญชีผู้รับเงินผ่านระบบ KTB Corporate Online",
            "{group_name}",
            "สำนักงานเขต{district_name}  {batch_title}  อนุมัติวันที่ {approved_date}",
        ],
        "signatures": copy.deepcopy(_FORM_SIGNATURES),
        "footer_lines": [],
        "orientation": "L",
        "font_size": 12,
    },
}
TEMPLATE_KEYS = (
    "title",
    "header_lines",
    "regulation_heading",
    "signatures",
    "footer_lines",
    "orientation",
    "font_size",
)


def effective_template(doc: str, override: Mapping[str, Any] | None) -> dict[str, Any]:
    """The default template of ``doc`` with a district's override laid over it."""
    template = copy.deepcopy(DEFAULT_TEMPLATES[doc])
    for key, value in (override or {}).items():
        if key in TEMPLATE_KEYS and value is not None:
            template[key] = copy.deepcopy(value)
    return template


_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def fill(text: str, values: Mapping[str, str]) -> str:
    """Replace ``{name}`` placeholders with document values; unknown ones stay as written.

    A plain substitution (not ``str.format``), so template text can never reach attributes.
    """
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)
