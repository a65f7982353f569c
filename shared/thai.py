"""Thai helpers: national IDs, Buddhist-era dates, fiscal years, baht text and spreadsheet safety.

Every parser here is ASCII-strict (reliability spec P12): Thai (๐-๙) and full-width digits are never
accepted implicitly by ``int()``, ``str.isdigit()`` or ``\\d``.  Only :func:`find_thai_ids`, a privacy
scanner, deliberately recognises them.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from bahttext import bahttext as _bahttext

from shared.errors import ValidationError

__all__ = [
    "BE_OFFSET",
    "THAI_MONTHS",
    "age_on",
    "baht_text",
    "be_year",
    "excel_safe_text",
    "find_thai_ids",
    "fiscal_year",
    "fiscal_year_bounds",
    "format_baht",
    "format_be_date",
    "format_be_date_long",
    "format_national_id",
    "is_formula_like",
    "is_valid_national_id",
    "mask_national_id",
    "national_id_check_digit",
    "parse_be_date",
    "parse_national_id",
]

# ---------------------------------------------------------------------------------------------------
# National ID (เลขประจำตัวประชาชน)
# ---------------------------------------------------------------------------------------------------

_NID_RE = re.compile(r"[0-9]{13}", re.ASCII)
_TWELVE_DIGITS_RE = re.compile(r"[0-9]{12}", re.ASCII)

MSG_NID_FORMAT = "เลขประจำตัวประชาชนต้องเป็นตัวเลขอารบิก 13 หลัก (0-9) ไม่มีช่องว่างหรือขีด"
MSG_NID_FIRST_DIGIT = "เลขประจำตัวประชาชนไม่ถูกต้อง (หลักแรกต้องไม่ใช่ 0 หรือ 9)"
MSG_NID_CHECKSUM = "เลขประจำตัวประชาชนไม่ถูกต้อง (เลขตรวจสอบไม่ตรง)"


def national_id_check_digit(first12: str) -> int:
    """Return the mod-11 check digit (13th digit) for the first 12 ASCII digits of a Thai ID."""
    if not isinstance(first12, str) or _TWELVE_DIGITS_RE.fullmatch(first12) is None:
        raise ValueError("first12 must be a str of exactly 12 ASCII digits")
    # ord() arithmetic: the regex above guarantees '0'..'9' only.
    total = sum((ord(ch) - 48) * (13 - i) for i, ch in enumerate(first12))
    return (11 - total % 11) % 10


def parse_national_id(value: object, field: str = "national_id") -> str:
    """Validate a Thai national ID and return it as 13 ASCII digits, else raise ValidationError."""
    if not isinstance(value, str) or _NID_RE.fullmatch(value) is None:
        raise ValidationError(MSG_NID_FORMAT, field=field, code="invalid_national_id")
    if value[0] in "09":
        raise ValidationError(MSG_NID_FIRST_DIGIT, field=field, code="invalid_national_id")
    if national_id_check_digit(value[:12]) != ord(value[12]) - 48:
        raise ValidationError(MSG_NID_CHECKSUM, field=field, code="invalid_national_id_checksum")
    return value


def is_valid_national_id(value: object) -> bool:
    """Return True when ``value`` is a canonical, checksum-valid Thai national ID."""
    try:
        parse_national_id(value)
    except ValidationError:
        return False
    return True


def format_national_id(nid: str) -> str:
    """Format 13 ASCII digits in the 1-4-5-2-1 grouping, e.g. "1-2345-67890-12-1" (unmasked!)."""
    if not isinstance(nid, str) or _NID_RE.fullmatch(nid) is None:
        raise ValueError("nid must be a str of exactly 13 ASCII digits")
    return f"{nid[0]}-{nid[1:5]}-{nid[5:10]}-{nid[10:12]}-{nid[12]}"


_FULLY_MASKED_NID = "x-xxxx-xxxxx-xx-x"


def mask_national_id(nid: str) -> str:
    """Mask a national ID for display, keeping the last 4 digits: "x-xxxx-xxxx5-67-8".

    Anything that is not 13 ASCII digits is masked completely, so a malformed value is never leaked.
    """
    if not isinstance(nid, str) or _NID_RE.fullmatch(nid) is None:
        return _FULLY_MASKED_NID
    return f"x-xxxx-xxxx{nid[9]}-{nid[10:12]}-{nid[12]}"


# Digits a privacy scan must recognise: ASCII, Thai (U+0E50..U+0E59) and full-width (U+FF10..U+FF19).
_SCAN_DIGIT = "[0-9\u0e50-\u0e59\uff10-\uff19]"
# Optional separator between the 1-4-5-2-1 groups: space, no-break space, ASCII or Unicode dashes.
_SCAN_SEP = "[ \u00a0\u2007\u202f\\-\u2010-\u2015\u2212\ufe63\uff0d]?"
_SCAN_RE = re.compile(
    rf"(?<!{_SCAN_DIGIT})"
    rf"({_SCAN_DIGIT}){_SCAN_SEP}({_SCAN_DIGIT}{{4}}){_SCAN_SEP}({_SCAN_DIGIT}{{5}})"
    rf"{_SCAN_SEP}({_SCAN_DIGIT}{{2}}){_SCAN_SEP}({_SCAN_DIGIT})"
    rf"(?!{_SCAN_DIGIT})"
)
_TO_ASCII_DIGITS = str.maketrans(
    {**{0x0E50 + i: 48 + i for i in range(10)}, **{0xFF10 + i: 48 + i for i in range(10)}}
)


def find_thai_ids(text: str) -> list[str]:
    """Find checksum-valid Thai IDs in free text (ASCII/Thai/full-width digits, optional separators).

    Returns the IDs found, in order, as canonical 13-ASCII-digit strings.  A 13-digit group that is
    part of a longer run of digits is not reported.  Meant for privacy scans of logs and exports.
    """
    found: list[str] = []
    for match in _SCAN_RE.finditer(text):
        candidate = "".join(match.groups()).translate(_TO_ASCII_DIGITS)
        if is_valid_national_id(candidate):
            found.append(candidate)
    return found


# ---------------------------------------------------------------------------------------------------
# Buddhist-era dates and fiscal years
# ---------------------------------------------------------------------------------------------------

BE_OFFSET = 543
# Accepted range of Buddhist-era years when parsing (2400 BE = 1857 CE); catches CE years typed by mistake.
BE_YEAR_MIN = 2400
BE_YEAR_MAX = 2700

THAI_MONTHS: tuple[str, ...] = (
    "มกราคม",
    "กุมภาพันธ์",
    "มีนาคม",
    "เมษายน",
    "พฤษภาคม",
    "มิถุนายน",
    "กรกฎาคม",
    "สิงหาคม",
    "กันยายน",
    "ตุลาคม",
    "พฤศจิกายน",
    "ธันวาคม",
)

_BE_DATE_RE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})", re.ASCII)


def be_year(year_ce: int) -> int:
    """Convert a Common-Era year to the Buddhist-era year (+543)."""
    if isinstance(year_ce, bool) or not isinstance(year_ce, int):
        raise TypeError("year_ce must be an int")
    return year_ce + BE_OFFSET


def _as_date(d: date | datetime) -> date:
    if isinstance(d, datetime):
        return d.date()
    if isinstance(d, date):
        return d
    raise TypeError("expected a datetime.date or datetime.datetime")


def format_be_date(d: date | datetime) -> str:
    """Format a date as dd/mm/yyyy in the Buddhist era, e.g. "02/10/2558"."""
    d = _as_date(d)
    return f"{d.day:02d}/{d.month:02d}/{be_year(d.year):04d}"


def format_be_date_long(d: date | datetime) -> str:
    """Format a date with the Thai month name and Buddhist-era year, e.g. "2 ตุลาคม 2558"."""
    d = _as_date(d)
    return f"{d.day} {THAI_MONTHS[d.month - 1]} {be_year(d.year)}"


def parse_be_date(s: str, field: str = "date") -> date:
    """Parse a dd/mm/yyyy Buddhist-era date (ASCII digits only) into a date, else raise ValidationError."""
    if not isinstance(s, str) or (m := _BE_DATE_RE.fullmatch(s)) is None:
        raise ValidationError(
            "วันที่ต้องอยู่ในรูปแบบ วว/ดด/ปปปป (พ.ศ.) เป็นตัวเลขอารบิก เช่น 02/10/2558",
            field=field,
            code="invalid_date",
        )
    day, month, year_be = (int(g) for g in m.groups())  # ASCII-only by the regex above
    if not BE_YEAR_MIN <= year_be <= BE_YEAR_MAX:
        raise ValidationError(
            f"วันที่ไม่ถูกต้อง: ปีต้องเป็นปีพุทธศักราช ({BE_YEAR_MIN}-{BE_YEAR_MAX})",
            field=field,
            code="invalid_date",
        )
    try:
        return date(year_be - BE_OFFSET, month, day)
    except ValueError:
        raise ValidationError("วันที่ไม่ถูกต้อง: ไม่มีวันที่นี้ในปฏิทิน", field=field, code="invalid_date") from None


def fiscal_year(d: date) -> int:
    """Return the Thai government fiscal year (BE) of a date; fiscal 2566 = 1 Oct 2022 .. 30 Sep 2023."""
    d = _as_date(d)
    return be_year(d.year + 1 if d.month >= 10 else d.year)


def fiscal_year_bounds(fy_be: int) -> tuple[date, date]:
    """Return the first and last day of a Buddhist-era fiscal year."""
    if isinstance(fy_be, bool) or not isinstance(fy_be, int):
        raise TypeError("fy_be must be an int")
    year_ce = fy_be - BE_OFFSET
    return date(year_ce - 1, 10, 1), date(year_ce, 9, 30)


def age_on(birth: date, on: date) -> int:
    """Return the age in completed years on a given day (a 29 Feb birthday counts from 1 Mar)."""
    birth, on = _as_date(birth), _as_date(on)
    if on < birth:
        raise ValidationError("วันเกิดต้องไม่อยู่หลังวันที่คำนวณอายุ", field="birth_date", code="birth_after_reference")
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


# ---------------------------------------------------------------------------------------------------
# Baht amounts
# ---------------------------------------------------------------------------------------------------

_BAHT_TEXT_INPUT_RE = re.compile(r"[0-9]+(?:\.[0-9]{1,2})?", re.ASCII)
# bahttext formats through float ("%0.2f"); up to 15 significant digits survive that exactly.
_BAHT_TEXT_LIMIT = Decimal(10) ** 13
_CENT = Decimal("0.01")


def _to_decimal_2dp(amount: Decimal | str | int, field: str) -> Decimal:
    """Convert an exact amount to a Decimal with at most 2 decimal places (no floats)."""
    if isinstance(amount, float | bool) or not isinstance(amount, Decimal | str | int):
        raise TypeError("amount must be Decimal, str or int (never float)")
    if isinstance(amount, str):
        if _BAHT_TEXT_INPUT_RE.fullmatch(amount) is None:
            raise ValidationError(
                "จำนวนเงินต้องเป็นตัวเลขอารบิก ทศนิยมไม่เกิน 2 ตำแหน่ง", field=field, code="invalid_amount"
            )
        value = Decimal(amount)
    else:
        value = Decimal(amount)
    if not value.is_finite():
        raise ValidationError("จำนวนเงินไม่ถูกต้อง", field=field, code="invalid_amount")
    try:
        exact = value.quantize(_CENT)
    except InvalidOperation:
        raise ValidationError("จำนวนเงินมากเกินไป", field=field, code="amount_too_large") from None
    if exact != value:
        raise ValidationError("จำนวนเงินต้องมีทศนิยมไม่เกิน 2 ตำแหน่ง", field=field, code="invalid_amount")
    return exact


def baht_text(amount: Decimal | str | int) -> str:
    """Spell a baht amount in Thai words, e.g. Decimal("1800.50") -> "หนึ่งพันแปดร้อยบาทห้าสิบสตางค์".

    Uses the ``bahttext`` library, with two corrections of its output: amounts below one baht
    drop the leading "ศูนย์บาท" ("ยี่สิบห้าสตางค์"), and one satang is "หนึ่งสตางค์", not
    "เอ็ดสตางค์".  Floats raise TypeError; negatives, more than 2 decimals and amounts of
    10,000,000,000,000 baht or more raise ValidationError.
    """
    value = _to_decimal_2dp(amount, "amount")
    if value < 0:
        raise ValidationError("จำนวนเงินต้องไม่ติดลบ", field="amount", code="invalid_amount")
    if value >= _BAHT_TEXT_LIMIT:
        raise ValidationError("จำนวนเงินมากเกินไป", field="amount", code="amount_too_large")
    text: str = _bahttext(value)
    satang = int(value.scaleb(2)) % 100
    if satang == 1:
        # The library spells 01 satang with the "เอ็ด" form used only after tens.
        text = text.removesuffix("เอ็ดสตางค์") + "หนึ่งสตางค์"
    if value < 1 and satang:
        text = text.removeprefix("ศูนย์บาท")
    return text


def format_baht(amount: Decimal) -> str:
    """Format an amount with thousands separators and exactly 2 decimals, e.g. "1,800.50"."""
    value = _to_decimal_2dp(amount, "amount")
    return f"{value:,.2f}"


# ---------------------------------------------------------------------------------------------------
# Spreadsheet formula injection (CWE-1236)
# ---------------------------------------------------------------------------------------------------

_FORMULA_START = frozenset("=+-@\t\r\0")


def is_formula_like(s: str) -> bool:
    """Return True if a spreadsheet may read ``s`` as a formula (=, +, -, @, tab, CR or NUL first)."""
    for ch in s:
        if ch in _FORMULA_START:  # checked first: tab and CR are whitespace too
            return True
        if not ch.isspace():
            return False
    return False


def excel_safe_text(s: str) -> str:
    """Return text safe for a CSV/XLSX text cell: formula-like text gets a leading single quote."""
    return "'" + s if is_formula_like(s) else s
