"""Intake's rules in plain Python: statuses, ceilings, programmes, case numbers, documents.

No Flask, no session: the service layer loads rows into the small dataclasses below and calls
these functions, which either return a value or raise one of the errors at the bottom.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from shared.banks import mask_account_no
from shared.errors import ValidationError
from shared.thai import age_on, fiscal_year, format_baht, format_be_date

# Thailand has kept UTC+7 without daylight saving since 1920, so a fixed offset is exact and
# needs no time-zone database in the container.
BANGKOK = dt.timezone(dt.timedelta(hours=7), "Asia/Bangkok")

STATUSES = (
    "registered",
    "on_agenda",
    "deferred",
    "disqualified",
    "approved",
    "paying",
    "paid",
    "payment_failed",
    "reversed",
)
STATUS_TH = {
    "registered": "บันทึกข้อมูลเคสแล้ว รอเข้าที่ประชุม",
    "on_agenda": "อยู่ในรายการขออนุมัติเงิน (รอที่ประชุมพิจารณา)",
    "deferred": "นำออกจากที่ประชุมชั่วคราว",
    "disqualified": "ขาดคุณสมบัติ",
    "approved": "อนุมัติเงิน",
    "paying": "อยู่ระหว่างโอนเงิน",
    "paid": "จ่ายเงินแล้ว",
    "payment_failed": "จ่ายเงินไม่สำเร็จ",
    # The bank reversed a transfer it had reported paid (payout.reversed): the money came back and
    # payment waits for corrected bank details.  Not final: the officer may correct the account.
    "reversed": "ธนาคารตีกลับการโอน รอแก้ไขข้อมูลบัญชี",
}
#: Cases that use up a ceiling or a repeat limit: everything but a refusal or a failed payment.
COUNTED_STATUSES = frozenset(
    {"registered", "on_agenda", "deferred", "approved", "paying", "paid", "reversed"}
)
#: Cases still in progress somewhere (the "open case" warning).
OPEN_STATUSES = frozenset({"registered", "on_agenda", "deferred", "approved", "paying", "reversed"})
#: Cases whose assistance was granted (approved by the committee, paid or being paid).
GRANTED_STATUSES = frozenset({"approved", "paying", "paid", "reversed"})
FINAL_STATUSES = frozenset({"disqualified", "paid", "payment_failed"})

CEILING_SCOPES = ("per_case", "per_person_fy", "per_family_fy")
CEILING_SCOPE_TH = {
    "per_case": "ต่อครั้ง",
    "per_person_fy": "ต่อคนต่อปีงบประมาณ",
    "per_family_fy": "ต่อครอบครัว (ทะเบียนบ้าน) ต่อปีงบประมาณ",
}
CASE_TYPE_TH = {"disabled": "เคสผู้พิการ", "general": "เคสประชาชนทั่วไป"}
DOCUMENT_KINDS = ("related", "financial")
DOCUMENT_KIND_TH = {"related": "เอกสารที่เกี่ยวข้อง", "financial": "เอกสารทางการเงิน"}
SEXES = ("male", "female")

#: What may still change once a case is locked into an approval batch (manual §4).
EDITABLE_WHEN_LOCKED = frozenset({"bank", "phone", "email"})
FIELD_TH = {
    "title": "คำนำหน้า",
    "sex": "เพศ",
    "first_name": "ชื่อ",
    "last_name": "นามสกุล",
    "birth_date": "วันเดือนปีเกิด",
    "disabled": "ความพิการ",
    "house_id": "รหัสประจำบ้าน",
    "welfare_type_code": "ประเภทเงินสงเคราะห์",
    "programme_code": "โครงการ",
    "amount": "จำนวนเงิน",
    "hardship": "รายละเอียดความเดือดร้อน",
    "bank": "ข้อมูลบัญชีธนาคาร",
    "phone": "หมายเลขโทรศัพท์",
    "email": "อีเมล",
    "related": "เอกสารที่เกี่ยวข้อง",
    "financial": "เอกสารทางการเงิน",
    "home_visit": "การเยี่ยมบ้าน",
}

MAX_AGE = 130
PDF_MAGIC = b"%PDF-"
PDF_EOF = b"%%EOF"
#: How far from the end ``%%EOF`` may be (trailing newlines, padding some scanners add).
PDF_EOF_WINDOW = 2048

_CASE_NO_RE = re.compile(r"Case(\d{4})-(\d+)", re.ASCII)


# --- errors ------------------------------------------------------------------------------------
class IntakeError(Exception):
    """A refusal with an HTTP status, a stable code and a Thai message."""

    status = 400

    def __init__(self, message: str, *, code: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


class NotFound(IntakeError):
    """The object does not exist (or belongs to another district)."""

    status = 404


class RuleBroken(IntakeError):
    """A ceiling, repeat limit or programme rule refuses the request (422)."""

    status = 422


class StateConflict(IntakeError):
    """The case's state does not allow the change (409), e.g. locked into an approval batch."""

    status = 409


class DocumentRejected(IntakeError):
    """An upload that is empty or damaged (400)."""


class UnsupportedDocument(DocumentRejected):
    """An upload that is not a PDF (415)."""

    status = 415


class DocumentTooLarge(DocumentRejected):
    """An upload over the size limit (413)."""

    status = 413


# --- values the rules read ---------------------------------------------------------------------
@dataclass(frozen=True)
class CatalogueEntry:
    """The rule-relevant part of a welfare type."""

    code: str
    name_th: str
    ceiling: Decimal | None
    ceiling_scope: str
    repeat_limit: int | None
    active: bool


@dataclass(frozen=True)
class ProgrammeRule:
    """A programme's exclusion rule."""

    code: str
    name_th: str
    welfare_type_code: str
    rule_code: str
    excluded_welfare_type_code: str
    excluded_fiscal_year: int
    active: bool
    excluded_type_name: str = ""


@dataclass(frozen=True)
class PriorCase:
    """An earlier case, as the rules and the history see it."""

    case_id: str
    case_no: str
    fiscal_year: int
    district_code: str
    welfare_type_code: str
    amount: Decimal
    status: str
    recorded_at: dt.datetime
    house_id: str | None = None


# --- dates, numbers, types -----------------------------------------------------------------------
def bangkok_date(moment: dt.datetime) -> dt.date:
    """The calendar date in Bangkok of a UTC moment (fiscal years and ages use it)."""
    return moment.astimezone(BANGKOK).date()


def fiscal_year_of(moment: dt.datetime) -> int:
    """The Buddhist-era fiscal year of a moment, by its Bangkok date."""
    return fiscal_year(bangkok_date(moment))


def case_number_prefix(fiscal_year_be: int) -> str:
    """``Case2566-``: what precedes the running number (also built by SQL on PostgreSQL)."""
    return f"Case{fiscal_year_be}-"


def case_number(fiscal_year_be: int, running_no: int) -> str:
    """``Case2566-2``: the case number of the manual."""
    return f"{case_number_prefix(fiscal_year_be)}{running_no}"


def parse_case_number(value: str) -> tuple[int, int] | None:
    """(fiscal year, running number) of a case number, or None."""
    match = _CASE_NO_RE.fullmatch(value)
    return (int(match.group(1)), int(match.group(2))) if match else None


def case_type_for(disabled: bool) -> str:
    """เคสผู้พิการ when the person is disabled, otherwise เคสประชาชนทั่วไป."""
    return "disabled" if disabled else "general"


def age_at_recording(birth_date: dt.date, recorded_on: dt.date) -> int:
    """The age on the recording date; the birth date must be real, past and plausible."""
    if birth_date > recorded_on:
        raise ValidationError("วันเดือนปีเกิดต้องไม่อยู่ในอนาคต", field="birth_date", code="birth_date_in_future")
    age = age_on(birth_date, recorded_on)
    if age > MAX_AGE:
        raise ValidationError(
            f"วันเดือนปีเกิดไม่ถูกต้อง (อายุเกิน {MAX_AGE} ปี)", field="birth_date", code="birth_date_implausible"
        )
    return age


def check_not_future(day: dt.date, today: dt.date, *, field: str, label: str) -> None:
    """A date that must not be after today (Bangkok)."""
    if day > today:
        raise ValidationError(f"{label}ต้องไม่อยู่ในอนาคต", field=field, code="date_in_future")


# --- ceilings, repeat limits, programmes ---------------------------------------------------------
def _counted(
    cases: Iterable[PriorCase], *, welfare_type_code: str, fy: int, exclude: str | None
) -> list[PriorCase]:
    return [
        c
        for c in cases
        if c.welfare_type_code == welfare_type_code
        and c.fiscal_year == fy
        and c.status in COUNTED_STATUSES
        and c.case_id != exclude
    ]


def _total(cases: Iterable[PriorCase]) -> Decimal:
    return sum((c.amount for c in cases), Decimal("0.00"))


def check_entitlement(
    entry: CatalogueEntry,
    *,
    amount: Decimal,
    fy: int,
    person_cases: Sequence[PriorCase],
    family_cases: Sequence[PriorCase] | None,
    house_id: str | None,
    exclude_case_id: str | None = None,
) -> None:
    """Refuse a request that breaks the type's ceiling or repeat limit.

    ``person_cases`` are the person's cases (any year, any type); ``family_cases`` the cases of
    the house registration (needed for per-family ceilings).  Counted: every case of the same
    type and fiscal year that is not disqualified or payment_failed — approved but unpaid
    amounts count.

    :raises RuleBroken: ``welfare_type_inactive``, ``ceiling_<scope>`` or ``repeat_limit``.
    :raises ValidationError: a per-family type without a house registration number.
    """
    if not entry.active:
        raise RuleBroken(
            f"ประเภทเงินสงเคราะห์ {entry.name_th} ปิดการใช้งานแล้ว",
            code="welfare_type_inactive",
            field="welfare_type_code",
        )
    scope_th = CEILING_SCOPE_TH.get(entry.ceiling_scope, entry.ceiling_scope)
    if entry.ceiling is not None and amount > entry.ceiling:
        raise RuleBroken(
            f"จำนวนเงิน {format_baht(amount)} บาท เกินเพดานของ{entry.name_th}"
            f" ซึ่งไม่เกิน {format_baht(entry.ceiling)} บาท{scope_th}",
            code=f"ceiling_{entry.ceiling_scope}",
            field="amount",
        )
    own = _counted(person_cases, welfare_type_code=entry.code, fy=fy, exclude=exclude_case_id)
    if entry.ceiling_scope == "per_family_fy":
        if not house_id:
            raise ValidationError(
                f"{entry.name_th} จำกัดวงเงินต่อครอบครัว กรุณากรอกรหัสประจำบ้าน (เลขทะเบียนบ้าน 11 หลัก)",
                field="house_id",
                code="house_id_required",
            )
        # The person's own cases count even when recorded under another house number.
        seen = {c.case_id for c in own}
        family = own + [
            c
            for c in _counted(
                family_cases or (), welfare_type_code=entry.code, fy=fy, exclude=exclude_case_id
            )
            if c.case_id not in seen
        ]
        _check_total(entry, amount=amount, fy=fy, counted=family, who="ครอบครัวนี้ (ทะเบียนบ้านเดียวกัน)")
    elif entry.ceiling_scope == "per_person_fy":
        _check_total(entry, amount=amount, fy=fy, counted=own, who="ผู้ขอรายนี้")
    if entry.repeat_limit is not None and len(own) >= entry.repeat_limit:
        numbers = ", ".join(c.case_no for c in own)
        raise RuleBroken(
            f"{entry.name_th} ขอได้ไม่เกิน {entry.repeat_limit} ครั้งต่อคนต่อปีงบประมาณ"
            f" ผู้ขอรายนี้มีเคสในปีงบประมาณ {fy} แล้ว {len(own)} ครั้ง ({numbers})",
            code="repeat_limit",
            field="welfare_type_code",
        )


def _check_total(
    entry: CatalogueEntry, *, amount: Decimal, fy: int, counted: list[PriorCase], who: str
) -> None:
    if entry.ceiling is None:
        return
    used = _total(counted)
    left = max(entry.ceiling - used, Decimal("0.00"))
    if used + amount > entry.ceiling:
        numbers = ", ".join(c.case_no for c in counted)
        raise RuleBroken(
            f"เกินเพดานของ{entry.name_th} ไม่เกิน {format_baht(entry.ceiling)} บาท"
            f"{CEILING_SCOPE_TH[entry.ceiling_scope]}: ในปีงบประมาณ {fy} {who}ได้รับหรือขอไว้แล้ว"
            f" {format_baht(used)} บาท ({numbers}) ขอเพิ่ม {format_baht(amount)} บาท"
            f" รวม {format_baht(used + amount)} บาท (ขอได้อีกไม่เกิน {format_baht(left)} บาท)",
            code=f"ceiling_{entry.ceiling_scope}",
            field="amount",
        )


def check_programme(
    programme: ProgrammeRule, *, welfare_type_code: str, person_cases: Sequence[PriorCase]
) -> None:
    """Refuse a case the programme excludes (e.g. a career fund in fiscal 2564 for COVID-19).

    :raises RuleBroken: ``programme_inactive``, ``programme_not_applicable`` or the rule's code.
    """
    if not programme.active:
        raise RuleBroken(
            f"{programme.name_th} ปิดรับคำขอแล้ว", code="programme_inactive", field="programme_code"
        )
    if welfare_type_code != programme.welfare_type_code:
        raise RuleBroken(
            f"{programme.name_th} ใช้กับประเภทเงินสงเคราะห์ {programme.welfare_type_code} เท่านั้น",
            code="programme_not_applicable",
            field="programme_code",
        )
    prior = programme_exclusions(programme, person_cases)
    if prior:
        raise RuleBroken(
            programme_message(programme, prior), code=programme.rule_code, field="programme_code"
        )


def programme_exclusions(programme: ProgrammeRule, person_cases: Iterable[PriorCase]) -> list[PriorCase]:
    """The person's cases that exclude them from the programme."""
    return [
        c
        for c in person_cases
        if c.welfare_type_code == programme.excluded_welfare_type_code
        and c.fiscal_year == programme.excluded_fiscal_year
        and c.status in GRANTED_STATUSES
    ]


def programme_message(programme: ProgrammeRule, prior: Sequence[PriorCase]) -> str:
    """Why the programme refuses the person (Thai)."""
    numbers = ", ".join(c.case_no for c in prior)
    excluded = programme.excluded_type_name or programme.excluded_welfare_type_code
    return (
        f"ไม่เข้าหลักเกณฑ์{programme.name_th}: ต้องไม่เคยได้รับความช่วยเหลือประเภท"
        f"{excluded} ในปีงบประมาณ {programme.excluded_fiscal_year}"
        f" แต่ผู้ขอรายนี้เคยได้รับแล้ว ({numbers})"
    )


# --- the history's warnings ----------------------------------------------------------------------
@dataclass(frozen=True)
class HistoryWarning:
    """One warning of the history check."""

    code: str
    message: str


def history_warnings(
    cases: Sequence[PriorCase],
    *,
    fy: int,
    district_names: dict[str, str],
    type_names: dict[str, str],
    entry: CatalogueEntry | None = None,
    amount: Decimal | None = None,
    family_cases: Sequence[PriorCase] | None = None,
    house_id: str | None = None,
    programmes: Sequence[ProgrammeRule] = (),
) -> list[HistoryWarning]:
    """Warnings before recording: open cases, grants this fiscal year, ceilings, programme rules."""
    out: list[HistoryWarning] = []
    for c in cases:
        if c.status in OPEN_STATUSES:
            out.append(
                HistoryWarning(
                    "open_case",
                    f"มีเคสที่ยังไม่สิ้นสุด {c.case_no} ({type_names.get(c.welfare_type_code, c.welfare_type_code)})"
                    f" ที่สำนักงานเขต{district_names.get(c.district_code, c.district_code)}"
                    f" สถานะ {STATUS_TH[c.status]} บันทึกเมื่อ {format_be_date(bangkok_date(c.recorded_at))}",
                )
            )
    for c in cases:
        if (
            c.fiscal_year == fy
            and c.status in GRANTED_STATUSES
            and (entry is None or c.welfare_type_code == entry.code)
        ):
            out.append(
                HistoryWarning(
                    "already_granted_this_fy",
                    f"ได้รับ{type_names.get(c.welfare_type_code, c.welfare_type_code)}แล้วในปีงบประมาณ {fy}"
                    f" ({c.case_no} จำนวน {format_baht(c.amount)} บาท สถานะ {STATUS_TH[c.status]})",
                )
            )
    if entry is not None:
        try:
            check_entitlement(
                entry,
                amount=amount if amount is not None else Decimal("0.01"),
                fy=fy,
                person_cases=cases,
                family_cases=family_cases,
                house_id=house_id,
            )
        except RuleBroken as exc:
            out.append(HistoryWarning(exc.code, exc.message))
        except ValidationError as exc:
            out.append(HistoryWarning(exc.code, exc.message))
        for programme in programmes:
            if programme.active and programme.welfare_type_code == entry.code:
                prior = programme_exclusions(programme, cases)
                if prior:
                    out.append(HistoryWarning(programme.rule_code, programme_message(programme, prior)))
    return out


# --- statuses from the other stages --------------------------------------------------------------
#: event kind -> (statuses it applies to, the new status)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "placed_on_agenda": (frozenset({"registered", "deferred", "on_agenda"}), "on_agenda"),
    "deferred": (frozenset({"registered", "on_agenda", "deferred"}), "deferred"),
    "restored": (frozenset({"deferred", "registered", "on_agenda"}), "on_agenda"),
    "disqualified": (frozenset({"registered", "on_agenda", "deferred", "disqualified"}), "disqualified"),
    "approved": (frozenset({"registered", "on_agenda", "deferred", "approved"}), "approved"),
    "transfer_failed": (frozenset({"approved", "paying", "reversed"}), "paying"),
    "paid": (frozenset({"approved", "paying", "paid", "reversed"}), "paid"),
    "payment_failed": (frozenset({"approved", "paying", "payment_failed", "reversed"}), "payment_failed"),
    # A success and its reversal in one bank report publish only the reversal: from approved/paying.
    "reversed": (frozenset({"approved", "paying", "paid", "reversed"}), "reversed"),
}
#: The kinds driven by payment's payout events.  ``paid`` is no longer for ever once a transfer can
#: be reversed (and the payee paid again), so among these the event time decides (``payout_is_stale``).
PAYOUT_KINDS = frozenset({"transfer_failed", "paid", "payment_failed", "reversed"})


def next_status(current: str, kind: str) -> str | None:
    """The status after an event of the other stages, or None when it does not apply (stale)."""
    allowed, target = TRANSITIONS[kind]
    return target if current in allowed else None


def payout_is_stale(kind: str, at: dt.datetime, latest_payout_at: dt.datetime | None) -> bool:
    """True when a payout event happened before the case's latest applied payout event.

    Payment publishes one payee's events from successive transactions (a day or more apart:
    a bank report, a correction, the next file), so their times order them; a redelivered or
    late one (``paid`` arriving after the ``reversed`` that undid it) must not take the case back.
    """
    return kind in PAYOUT_KINDS and latest_payout_at is not None and at < latest_payout_at


def locked_change_refusal(changed: Iterable[str]) -> str | None:
    """The Thai refusal for changing locked fields of a case in an approval batch, or None."""
    refused = sorted(set(changed) - EDITABLE_WHEN_LOCKED)
    if not refused:
        return None
    names = ", ".join(FIELD_TH.get(f, f) for f in refused)
    return (
        "เคสนี้อยู่ในรายการอนุมัติเงินแล้ว แก้ไขได้เฉพาะข้อมูลทางการเงิน (บัญชีธนาคาร) หมายเลขโทรศัพท์ และอีเมล"
        f" — แก้ไขไม่ได้: {names}"
    )


# --- documents -----------------------------------------------------------------------------------
def check_pdf(content: bytes, *, max_bytes: int) -> None:
    """Accept a PDF by its content: ``%PDF-`` first, ``%%EOF`` at the end, within the size limit.

    :raises DocumentRejected: 413 too large, 400 empty or truncated, 415 not a PDF.
    """
    if len(content) > max_bytes:
        raise too_large(max_bytes)
    if not content:
        raise DocumentRejected("ไฟล์ว่างเปล่า กรุณาเลือกไฟล์ PDF", code="empty_file", field="file")
    if not content.startswith(PDF_MAGIC):
        raise UnsupportedDocument(
            "ไฟล์นี้ไม่ใช่ PDF (ตรวจจากเนื้อหาไฟล์ ไม่ใช่จากชื่อไฟล์) กรุณาสแกนเอกสารเป็นไฟล์ PDF",
            code="not_pdf",
            field="file",
        )
    if PDF_EOF not in content[-PDF_EOF_WINDOW:]:
        raise DocumentRejected(
            "ไฟล์ PDF ไม่สมบูรณ์ (ไม่พบส่วนท้ายของไฟล์) อาจอัปโหลดไม่ครบ กรุณาอัปโหลดใหม่",
            code="truncated_pdf",
            field="file",
        )


def too_large(max_bytes: int) -> DocumentTooLarge:
    """The 413 refusal naming the limit (in MB when it is a whole number of them)."""
    mib, rest = divmod(max_bytes, 1024 * 1024)
    limit = f"{mib} MB" if mib and not rest else f"{max_bytes:,} ไบต์"
    return DocumentTooLarge(f"ไฟล์มีขนาดใหญ่เกินกำหนด (ไม่เกิน {limit} ต่อไฟล์)", code="file_too_large", field="file")


# --- masking for audit snapshots -----------------------------------------------------------------
PERSONAL_FIELDS = frozenset(
    {"title", "first_name", "last_name", "birth_date", "hardship", "phone", "email", "house_id", "sex"}
)


mask_account = mask_account_no


def masked_value(field: str, value: object) -> object:
    """A value as the audit log may keep it: personal data masked, the rest as is."""
    if value is None:
        return None
    if field in PERSONAL_FIELDS:
        return "***"
    if field == "bank" and isinstance(value, dict):
        return {**value, "account_no": mask_account(value.get("account_no")), "account_name": "***"}
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
