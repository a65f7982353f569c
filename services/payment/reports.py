"""The bank's transfer-result report (spec §8.2): file checks and the three accepted shapes.

1. the KTB report as downloaded (xlsx or csv, title rows above a header row in Thai or English,
   totals rows below), read with the header aliases of §8.2;
2. the fixed-width echo of our own §2 file with the status field changed, read with the same
   layout tables as the writer (``services.payment.ktb``);
3. the normalised CSV of §8.2 (its column names are among the aliases of shape 1).

Everything is checked before anything is posted (reliability P7): a file of the wrong type, an
xlsx that would decompress too far, a missing column, a malformed line or an amount with a comma
or three decimals rejects the whole file with Thai messages naming the lines.  Pure: no database.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import PurePosixPath

from services.payment.ktb import DETAIL, ENCODING, HEADER, LayoutError
from shared.banks import clean_account_no
from shared.errors import ValidationError
from shared.money import parse_amount, to_satang

__all__ = [
    "FAILED",
    "REVERSED",
    "SUCCESS",
    "UNKNOWN",
    "ParsedReport",
    "ReportError",
    "ReportLimits",
    "ResultRecord",
    "content_key",
    "normalise_status",
    "parse_report",
    "sniff",
]

SUCCESS, FAILED, REVERSED, UNKNOWN = "SUCCESS", "FAILED", "REVERSED", "UNKNOWN"
MAX_LISTED_ERRORS = 100
HEADER_SEARCH_ROWS = 50


class ReportError(Exception):
    """The file cannot be used: an HTTP-like status, a code, a Thai message and per-line errors."""

    def __init__(
        self, status: int, code: str, message: str, errors: Sequence[dict[str, object]] = ()
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = list(errors)


@dataclass(frozen=True)
class ReportLimits:
    """Upload limits (reliability S6) and the status vocabulary (spec §8.2, extendable by settings)."""

    max_bytes: int = 20 * 1024 * 1024
    xlsx_max_uncompressed: int = 100 * 1024 * 1024
    xlsx_max_entries: int = 1000
    xlsx_min_ratio_percent: int = 1  # Apache POI's MIN_INFLATE_RATIO 0.01
    xlsx_ratio_grace_bytes: int = 100 * 1024  # tiny parts compress well and are harmless
    success_tokens: frozenset[str] = frozenset()
    failed_tokens: frozenset[str] = frozenset()
    reversal_tokens: frozenset[str] = frozenset()
    echo_success_codes: frozenset[str] = frozenset()
    echo_failed_codes: frozenset[str] = frozenset()
    echo_reversed_codes: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ResultRecord:
    """One line of a result report, normalised."""

    line: int
    ref2: str | None
    running_no: int | None
    file_ref: str | None
    bank_code: str | None
    account_no: str | None
    receiver_name: str | None
    amount: Decimal
    satang: int
    status: str
    raw_status: str
    reason_code: str | None
    reason_text: str | None
    value_date: str | None
    bank_txn_ref: str | None


@dataclass
class ParsedReport:
    """What a report holds: its shape, its records and any totals it states."""

    kind: str  # xlsx | csv | fixed_width
    shape: str  # ktb_report | normalised_csv | fixed_width
    records: list[ResultRecord] = field(default_factory=list)
    stated_total_satang: int | None = None
    stated_count: int | None = None


# --- status tokens (§8.2) ---------------------------------------------------------------------------
_SUCCESS_TOKENS = frozenset(
    {"success", "successful", "completed", "complete", "สำเร็จ", "โอนสำเร็จ", "เรียบร้อย"}
)
_FAILED_TOKENS = frozenset(
    {"fail", "failed", "reject", "rejected", "unsuccessful", "return", "ไม่สำเร็จ", "ปฏิเสธ", "คืนเงิน"}
)


# Reversals (reliability P10).  The spec (§8.1) knows nothing about how KTB reports a credit
# that came back after it was paid; these words are a PROPOSAL, and RESULT_REVERSAL_TOKENS adds
# the bank's real wording once a real report is seen.  "return" / "คืนเงิน" stay failure words
# as §8.2 lists them; an office whose report uses them for reversals names them in
# RESULT_REVERSAL_TOKENS, which is checked before the built-in failure words.
_REVERSAL_TOKENS = frozenset({"reversed", "reversal", "กลับรายการ", "รายการกลับ", "โอนกลับรายการ"})


def vocabulary_problems(limits: ReportLimits) -> list[str]:
    """Configured status words or echo codes that would mean two things (the service refuses to start)."""
    out = []
    success = _SUCCESS_TOKENS | limits.success_tokens
    failed = limits.failed_tokens | (_FAILED_TOKENS - limits.reversal_tokens)
    for label, a, b in (
        ("RESULT_SUCCESS_TOKENS/RESULT_FAILED_TOKENS", success, failed),
        ("RESULT_SUCCESS_TOKENS/RESULT_REVERSAL_TOKENS", success, limits.reversal_tokens),
        ("RESULT_FAILED_TOKENS/RESULT_REVERSAL_TOKENS", limits.failed_tokens, limits.reversal_tokens),
        ("KTB_ECHO_SUCCESS_CODES/KTB_ECHO_FAILED_CODES", limits.echo_success_codes, limits.echo_failed_codes),
        (
            "KTB_ECHO_SUCCESS_CODES/KTB_ECHO_REVERSED_CODES",
            limits.echo_success_codes,
            limits.echo_reversed_codes,
        ),
        (
            "KTB_ECHO_FAILED_CODES/KTB_ECHO_REVERSED_CODES",
            limits.echo_failed_codes,
            limits.echo_reversed_codes,
        ),
    ):
        both = sorted(a & b)
        if both:
            out.append(f"{label} share {', '.join(both)}: a status word must mean one thing")
    return out


def normalise_status(raw: str, limits: ReportLimits | None = None) -> str:
    """SUCCESS, FAILED or REVERSED only for an explicit token; anything else (blank, ``09``) is UNKNOWN."""
    token = " ".join(str(raw).split()).lower()
    extra_ok = limits.success_tokens if limits else frozenset()
    extra_bad = limits.failed_tokens if limits else frozenset()
    extra_reversed = limits.reversal_tokens if limits else frozenset()
    if token in extra_reversed:
        return REVERSED
    if token in _SUCCESS_TOKENS or token in extra_ok:
        return SUCCESS
    if token in _FAILED_TOKENS or token in extra_bad:
        return FAILED
    if token in _REVERSAL_TOKENS:
        return REVERSED
    return UNKNOWN


# --- file type and container checks (reliability S6) ----------------------------------------------
_ALLOWED_SUFFIXES = (".xlsx", ".csv", ".txt")
_BINARY_MAGIC = (
    (b"%PDF", "ไฟล์นี้เป็น PDF ระบบอ่านผลการโอนจาก PDF ไม่ได้ กรุณาดาวน์โหลดรายงานจาก KTB เป็น Excel หรือ CSV"),
    (b"MZ", "ไฟล์นี้เป็นไฟล์โปรแกรม ไม่ใช่รายงานผลการโอนเงิน"),
    (b"\x7fELF", "ไฟล์นี้เป็นไฟล์โปรแกรม ไม่ใช่รายงานผลการโอนเงิน"),
    (b"\xd0\xcf\x11\xe0", "ไฟล์นี้เป็น Excel รุ่นเก่า (.xls) กรุณาบันทึกเป็น .xlsx หรือ .csv ก่อนนำเข้า"),
    (b"\x89PNG", "ไฟล์นี้เป็นรูปภาพ ไม่ใช่รายงานผลการโอนเงิน"),
    (b"\xff\xd8\xff", "ไฟล์นี้เป็นรูปภาพ ไม่ใช่รายงานผลการโอนเงิน"),
    (b"GIF8", "ไฟล์นี้เป็นรูปภาพ ไม่ใช่รายงานผลการโอนเงิน"),
)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _unsupported(message: str) -> ReportError:
    return ReportError(415, "unsupported_file", message)


def sniff(data: bytes, filename: str | None, limits: ReportLimits) -> str:
    """``"xlsx"`` or ``"text"``, judged by the name's extension and the content's magic bytes.

    :raises ReportError: 400 empty, 413 too large (also for an xlsx that would decompress too
        far), 415 wrong or mismatched type.
    """
    if not data:
        raise ReportError(400, "empty_file", "ไฟล์ว่าง ไม่มีข้อมูล")
    if len(data) > limits.max_bytes:
        raise ReportError(413, "too_large", f"ไฟล์มีขนาดเกิน {limits.max_bytes // (1024 * 1024)} MB ที่ระบบรับได้")
    suffix = PurePosixPath((filename or "").replace("\\", "/")).suffix.lower()
    if suffix not in _ALLOWED_SUFFIXES:
        raise _unsupported("รองรับเฉพาะไฟล์ .xlsx .csv หรือ .txt ของรายงานผลการโอนเงิน")
    for magic, message in _BINARY_MAGIC:
        if data.startswith(magic):
            raise _unsupported(message)
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        check_xlsx_container(data, limits)
        if suffix != ".xlsx":
            raise _unsupported(f"เนื้อไฟล์เป็น Excel (.xlsx) แต่ชื่อไฟล์ลงท้ายด้วย {suffix}")
        return "xlsx"
    if suffix == ".xlsx":
        raise _unsupported("ชื่อไฟล์ลงท้ายด้วย .xlsx แต่เนื้อไฟล์ไม่ใช่ Excel")
    text = decode_text(data)
    bad = _CONTROL.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        raise _unsupported(f"บรรทัดที่ {line}: พบอักขระควบคุม ไฟล์นี้ไม่ใช่ไฟล์ข้อความ CSV หรือ TXT")
    return "text"


def decode_text(data: bytes) -> str:
    """UTF-8 (a BOM is fine) or cp874/TIS-620; 415 for anything else."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode(ENCODING)
    except UnicodeDecodeError as exc:
        raise _unsupported(
            f"อ่านไฟล์ไม่ได้ที่ไบต์ {exc.start}: รองรับเฉพาะรหัสอักขระ UTF-8 หรือ TIS-620 (Windows-874)"
        ) from None


def check_xlsx_container(data: bytes, limits: ReportLimits) -> None:
    """Zip-bomb and path checks on the central directory, before any XML is parsed (S6c)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _unsupported("ไฟล์ Excel (.xlsx) เสียหรือไม่สมบูรณ์") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.xlsx_max_entries:
            raise _unsupported(f"ไฟล์ .xlsx มีส่วนประกอบ {len(infos)} ส่วน เกิน {limits.xlsx_max_entries}")
        total = 0
        names = set()
        for info in infos:
            name = info.filename
            parts = PurePosixPath(name.replace("\\", "/")).parts
            mode = (info.external_attr >> 16) & 0o170000
            if (
                name.startswith(("/", "\\"))
                or ".." in parts
                or re.match(r"[A-Za-z]:", name)
                or mode == 0o120000
            ):
                raise _unsupported("ไฟล์ .xlsx มีชื่อส่วนประกอบที่ไม่ปลอดภัย")
            total += info.file_size
            if (
                info.file_size > limits.xlsx_ratio_grace_bytes
                and info.compress_size * 100 < info.file_size * limits.xlsx_min_ratio_percent
            ):
                raise ReportError(
                    413,
                    "zip_bomb",
                    f"ไฟล์ .xlsx ถูกบีบอัดผิดปกติ (ส่วน {name} ขยายได้เกิน 100 เท่า) ระบบไม่เปิดไฟล์นี้",
                )
            names.add(name)
        if total > limits.xlsx_max_uncompressed:
            raise ReportError(
                413,
                "zip_bomb",
                f"ไฟล์ .xlsx เมื่อคลายการบีบอัดมีขนาด {total // (1024 * 1024)} MB"
                f" เกิน {limits.xlsx_max_uncompressed // (1024 * 1024)} MB ที่ระบบรับได้",
            )
        if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
            raise _unsupported("ไฟล์ zip นี้ไม่ใช่ไฟล์ Excel (.xlsx)")


def content_key(data: bytes, kind: str) -> str:
    """A hash that ignores line endings, trailing spaces, BOM and the text encoding (P5)."""
    if kind != "text":
        return hashlib.sha256(data).hexdigest()
    lines = [line.rstrip() for line in _split_lines(decode_text(data))]
    while lines and not lines[-1]:
        lines.pop()
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def _split_lines(text: str) -> list[str]:
    return re.split(r"\r\n|\n|\r", text)


# --- parsing ------------------------------------------------------------------------------------------
def parse_report(data: bytes, filename: str | None, limits: ReportLimits) -> ParsedReport:
    """Check and parse a result report into records.

    :raises ReportError: the file is unusable; ``errors`` name every offending line (at most 100).
    """
    kind = sniff(data, filename, limits)
    if kind == "xlsx":
        return _parse_table(_xlsx_rows(data), kind="xlsx", limits=limits)
    text = decode_text(data)
    first = next((line for line in _split_lines(text) if line.strip()), "")
    if first.startswith("101") and "," not in first and "\t" not in first:
        return _parse_fixed_width(_fixed_width_text(data, text), limits)
    last_error: ReportError | None = None
    for delimiter in (",", "\t", ";"):
        try:
            return _parse_table(_csv_rows(text, delimiter), kind="csv", limits=limits)
        except ReportError as exc:
            if exc.code != "no_header":
                raise
            last_error = last_error or exc
    assert last_error is not None
    raise last_error


class _Errors:
    """Collects per-line errors; the file is rejected when any exist."""

    def __init__(self) -> None:
        self.items: list[dict[str, object]] = []
        self.count = 0

    def add(self, line: int, message: str) -> None:
        self.count += 1
        if len(self.items) < MAX_LISTED_ERRORS:
            self.items.append({"line": line, "message": message})

    def raise_if_any(self) -> None:
        if not self.count:
            return
        items = list(self.items)
        if self.count > len(items):
            items.append({"line": None, "message": f"และข้อผิดพลาดอื่นอีก {self.count - len(items)} รายการ"})
        raise ReportError(
            422,
            "invalid_lines",
            f"ไฟล์มีข้อผิดพลาด {self.count} รายการ ระบบไม่บันทึกผลใด ๆ จากไฟล์นี้ กรุณาแก้ไขแล้วนำเข้าใหม่",
            items,
        )


# shape 2 --------------------------------------------------------------------------------------------
def _fixed_width_text(data: bytes, text: str) -> str:
    """The fixed-width echo's text, read as cp874 when reading it as UTF-8 broke its records.

    ``decode_text`` tries UTF-8 first.  A cp874 echo whose only Thai bytes also happen to form
    valid UTF-8 (a payee named "ยก" is C2 A1) then reads with records a character short.  The
    record length settles it: when a record's length is wrong as UTF-8 and every record has the
    layout's length as cp874, the file is cp874.
    """

    def lengths_fit(candidate: str) -> bool:
        records = [line for line in _split_lines(candidate) if line]
        return bool(records) and all(
            len(r) == (HEADER.length if i == 0 else DETAIL.length) for i, r in enumerate(records)
        )

    if lengths_fit(text):
        return text
    try:
        as_cp874 = data.decode(ENCODING)
    except UnicodeDecodeError:
        return text
    return as_cp874 if lengths_fit(as_cp874) else text


def _parse_fixed_width(text: str, limits: ReportLimits) -> ParsedReport:
    lines = _split_lines(text)
    while lines and not lines[-1]:
        lines.pop()
    errors = _Errors()
    report = ParsedReport(kind="fixed_width", shape="fixed_width")
    header: dict[str, str] | None = None
    for number, raw in enumerate(lines, start=1):
        layout = HEADER if number == 1 else DETAIL
        try:
            fields_ = layout.parse(raw)
        except LayoutError as exc:
            errors.add(number, f"บรรทัดที่ {number}: ระเบียนแบบความกว้างคงที่ไม่ถูกต้อง — {exc.message}")
            continue
        expected = "1" if number == 1 else "2"
        if fields_["record_type"] != expected or fields_["file_type"] != "10":
            kind = "ส่วนหัว (ประเภท 1)" if number == 1 else "รายการ (ประเภท 2)"
            errors.add(number, f"บรรทัดที่ {number}: ต้องเป็นระเบียน{kind} ขึ้นต้นด้วย 10{expected}")
            continue
        if number == 1:
            header = fields_
            continue
        code = fields_["status"]
        if code in limits.echo_success_codes:
            status = SUCCESS
        elif code in limits.echo_failed_codes:
            status = FAILED
        elif code in limits.echo_reversed_codes:
            status = REVERSED
        else:
            status = UNKNOWN  # the status codes of the echo are not known publicly (§8.1)
        satang = int(fields_["amount"])
        if satang <= 0:
            errors.add(number, f"บรรทัดที่ {number}: จำนวนเงินต้องมากกว่า 0")
            continue
        report.records.append(
            ResultRecord(
                line=number,
                ref2=fields_["ref2"].strip() or None,
                running_no=int(fields_["running_no"]),
                file_ref=None,
                bank_code=fields_["recv_bank"],
                account_no=fields_["recv_acct"],
                receiver_name=fields_["receiver_name"] or None,
                amount=Decimal(satang).scaleb(-2),
                satang=satang,
                status=status,
                raw_status=code,
                reason_code=None,
                reason_text=None,
                value_date=None,
                bank_txn_ref=None,
            )
        )
    if not lines:
        errors.add(1, "ไฟล์ไม่มีข้อมูล")
    errors.raise_if_any()
    assert header is not None
    report.stated_count = int(header["total_txn"])
    report.stated_total_satang = int(header["total_amount"])
    _check_totals(report, len(lines))
    return report


def _check_totals(report: ParsedReport, last_line: int) -> None:
    """A truncated file (count or control sum off) is rejected (P7)."""
    problems = []
    if report.stated_count is not None and report.stated_count != len(report.records):
        problems.append(f"ส่วนหัวระบุ {report.stated_count} รายการ แต่พบ {len(report.records)} รายการ")
    if report.stated_total_satang is not None:
        total = sum(r.satang for r in report.records)
        success = sum(r.satang for r in report.records if r.status == SUCCESS)
        if report.stated_total_satang not in (total, success):
            problems.append(
                f"ยอดรวมที่ระบุในไฟล์ {_baht(report.stated_total_satang)} บาท"
                f" ไม่ตรงกับผลรวมของรายการ {_baht(total)} บาท"
            )
    if problems:
        raise ReportError(
            422,
            "totals_mismatch",
            "ไฟล์ไม่ครบถ้วน: " + "; ".join(problems) + " ระบบไม่บันทึกผลใด ๆ จากไฟล์นี้",
            [{"line": last_line, "message": p} for p in problems],
        )


def _baht(satang: int) -> str:
    return f"{Decimal(satang).scaleb(-2):,.2f}"


# shapes 1 and 3 ---------------------------------------------------------------------------------------
def _norm(value: object) -> str:
    """Header text compared without case, spaces and ASCII punctuation (Thai marks are kept)."""
    return re.sub(r"[\s!-/:-@\[-`{-~]+", "", str(value).lower())


_ALIASES: dict[str, tuple[str, ...]] = {
    "ref2": ("Reference No./ DDA Ref 2", "Reference No.", "Ref No.", "DDA Ref 2", "Ref2", "เลขที่อ้างอิง"),
    "running_no": ("Ref Running No", "Running No", "Seq", "No.", "ลำดับ", "running_no"),
    "bank_code": ("Receiving Bank Code", "Bank Code", "รหัสธนาคาร", "bank_code"),
    "account_no": ("Receiving A/C No.", "Account No.", "A/C No.", "เลขที่บัญชี", "account_no"),
    "receiver_name": ("Receiver Name", "Account Name", "ชื่อบัญชี", "ชื่อผู้รับเงิน", "receiver_name"),
    "amount": ("Transfer Amount", "Amount", "จำนวนเงิน"),
    "status": ("Status", "Result", "สถานะ", "ผลการโอน"),
    "reason_text": ("Reason", "Reject Reason", "Remark", "Description", "หมายเหตุ", "สาเหตุ", "reason_text"),
    "reason_code": ("reason_code", "Reason Code"),
    "value_date": ("Effective Date", "Value Date", "Transaction Date", "วันที่", "value_date"),
    "bank_txn_ref": ("bank_txn_ref", "Bank Txn Ref", "Transaction Ref"),
    "file_ref": ("batch_id",),
}
_ALIAS_TO_FIELD = {_norm(alias): name for name, aliases in _ALIASES.items() for alias in aliases}
_NORMALISED_CSV = ("batch_id", "ref2", "running_no", "bank_code", "account_no", "amount", "status")
_TOTAL_WORDS = ("รวม", "total")
_SIX_DIGITS = re.compile(r"[0-9]{6}", re.ASCII)


def _is_total_row(row: Sequence[object], ref_text: str) -> bool:
    """A "รวม" / "Total" row: the word appears, and the ref2 cell is empty or is that label."""
    labelled = not ref_text or any(word in ref_text for word in _TOTAL_WORDS)
    return labelled and any(word in _text(c).lower() for c in row for word in _TOTAL_WORDS)


def _find_header(
    rows: Iterator[tuple[int, Sequence[object]]],
) -> tuple[int, dict[str, int], Sequence[object]]:
    for _ in range(HEADER_SEARCH_ROWS):
        try:
            number, row = next(rows)
        except StopIteration:
            break
        mapping: dict[str, int] = {}
        for index, cell in enumerate(row):
            if cell is None:
                continue
            name = _ALIAS_TO_FIELD.get(_norm(cell))
            if name and name not in mapping:
                mapping[name] = index
        if {"account_no", "amount", "status"} <= mapping.keys():
            return number, mapping, row
    raise ReportError(
        422,
        "no_header",
        "ไม่พบแถวหัวตาราง: ต้องมีคอลัมน์เลขที่บัญชี (Receiving A/C No.) จำนวนเงิน (Transfer Amount)"
        " และสถานะ (Status) ภายใน 50 แถวแรก",
        [{"line": None, "message": "ไม่พบแถวหัวตาราง"}],
    )


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a number typed into Excel (account, running number) loses nothing
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _amount(value: object, number: int) -> Decimal:
    if isinstance(value, bool):
        raise ValidationError(f"บรรทัดที่ {number}: จำนวนเงินไม่ถูกต้อง")
    if isinstance(value, float):
        # An Excel number cell: its shortest repr is the value typed (800.5); more than two
        # decimals (a formula result like 0.30000000000000004) is refused below, never rounded.
        try:
            value = Decimal(repr(value))
        except InvalidOperation:
            raise ValidationError(f"บรรทัดที่ {number}: จำนวนเงินไม่ถูกต้อง") from None
        if value != value.quantize(Decimal("0.01")):
            raise ValidationError(f"บรรทัดที่ {number}: จำนวนเงิน {value} มีทศนิยมเกิน 2 ตำแหน่ง")
    if isinstance(value, int | Decimal):
        return parse_amount(value)
    raw = _text(value)
    if "," in raw:
        raise ValidationError(
            f"บรรทัดที่ {number}: จำนวนเงิน {raw!r} มีเครื่องหมายจุลภาค ให้ใช้ตัวเลขไม่มีจุลภาค เช่น 1000.00"
        )
    try:
        return parse_amount(raw)
    except ValidationError as exc:
        raise ValidationError(f"บรรทัดที่ {number}: จำนวนเงิน {raw!r} ไม่ถูกต้อง — {exc.message}") from None


def _parse_table(
    rows: Iterator[tuple[int, Sequence[object]]], *, kind: str, limits: ReportLimits
) -> ParsedReport:
    header_line, columns, header_row = _find_header(rows)
    if not {"ref2", "running_no", "bank_code"} & columns.keys():
        raise ReportError(
            422,
            "missing_columns",
            f"บรรทัดที่ {header_line}: ไม่พบคอลัมน์ที่ใช้จับคู่รายการ ต้องมีอย่างน้อยหนึ่งคอลัมน์จาก"
            " เลขอ้างอิง (Reference No./ DDA Ref 2), ลำดับ (Running No) หรือรหัสธนาคาร (Receiving Bank Code)",
            [{"line": header_line, "message": "ไม่พบคอลัมน์ ref2, running_no หรือ bank_code"}],
        )
    normalised = [_norm(c) for c in header_row if c is not None]
    shape = (
        "normalised_csv"
        if kind == "csv" and all(_norm(n) in normalised for n in _NORMALISED_CSV)
        else "ktb_report"
    )
    report = ParsedReport(kind=kind, shape=shape)
    errors = _Errors()
    width = len(header_row)
    last_line = header_line

    def get(row: Sequence[object], name: str) -> object:
        index = columns.get(name)
        return row[index] if index is not None and index < len(row) else None

    for number, row in rows:
        last_line = number
        if not any(c is not None and c != "" and (not isinstance(c, str) or c.strip()) for c in row):
            continue
        # A CSV writer gives every row the header's width: another width means an unquoted comma
        # (1,000.00) shifted the columns, or the file was cut.  Rows that carry no payment data
        # (notes, footers) are let through and skipped below.
        if (
            kind == "csv"
            and len(row) != width
            and (
                len(row) > width
                or any(_text(get(row, n)) for n in ("ref2", "running_no", "account_no", "amount"))
            )
            and any(_text(c) for c in row)
        ):
            more = "มากกว่า" if len(row) > width else "น้อยกว่า"
            hint = (
                "อาจมีเครื่องหมายจุลภาคในจำนวนเงินหรือชื่อที่ไม่ได้ใส่เครื่องหมายคำพูด"
                if len(row) > width
                else "ไฟล์อาจถูกตัดหรือไม่ครบ"
            )
            errors.add(number, f"บรรทัดที่ {number}: มี {len(row)} คอลัมน์ {more}หัวตาราง ({width}) {hint}")
            continue
        account_raw, amount_raw = _text(get(row, "account_no")), get(row, "amount")
        if _SIX_DIGITS.search(account_raw) is None and _is_total_row(row, _text(get(row, "ref2")).lower()):
            # "รวม" / "Total" with an amount and no account: the report's own total (P7 check below)
            if _text(amount_raw):
                try:
                    report.stated_total_satang = to_satang(_amount(amount_raw, number))
                except ValidationError as exc:
                    errors.add(number, exc.message)
            continue
        if not account_raw:
            if _text(amount_raw) == "":
                continue  # a note or footer row: no account, no amount
            errors.add(number, f"บรรทัดที่ {number}: ไม่มีเลขที่บัญชี")
            continue
        record = _record(number, row, get, limits, errors)
        if record is not None:
            report.records.append(record)
    if not report.records and not errors.count:
        errors.add(last_line, "ไม่พบรายการผลการโอนในไฟล์")
    errors.raise_if_any()
    _check_totals(report, last_line)
    return report


def _record(
    number: int,
    row: Sequence[object],
    value: Callable[[Sequence[object], str], object],
    limits: ReportLimits,
    errors: _Errors,
) -> ResultRecord | None:
    before = errors.count
    try:
        account = clean_account_no(_text(value(row, "account_no")))
    except ValidationError as exc:
        errors.add(number, f"บรรทัดที่ {number}: เลขที่บัญชีไม่ถูกต้อง — {exc.message}")
        account = None
    amount = Decimal(0)
    try:
        amount = _amount(value(row, "amount"), number)
    except ValidationError as exc:
        errors.add(number, exc.message)
    running_raw = _text(value(row, "running_no"))
    running_no = None
    if running_raw:
        if re.fullmatch(r"[0-9]{1,9}", running_raw, re.ASCII):
            running_no = int(running_raw)
        else:
            errors.add(number, f"บรรทัดที่ {number}: ลำดับ {running_raw!r} ต้องเป็นตัวเลข")
    bank_raw = _text(value(row, "bank_code"))
    bank_code = None
    if bank_raw:
        if re.fullmatch(r"[0-9]{1,3}", bank_raw, re.ASCII):
            bank_code = bank_raw.zfill(3)  # "6" from a number cell is 006
        else:
            errors.add(number, f"บรรทัดที่ {number}: รหัสธนาคาร {bank_raw!r} ต้องเป็นตัวเลข 3 หลัก")
    ref2 = _text(value(row, "ref2")) or None
    if not (ref2 or running_no is not None or bank_code):
        errors.add(number, f"บรรทัดที่ {number}: ไม่มีเลขอ้างอิง ลำดับ หรือรหัสธนาคารสำหรับจับคู่รายการ")
    if errors.count != before:
        return None
    raw_status = _text(value(row, "status"))
    return ResultRecord(
        line=number,
        ref2=ref2,
        running_no=running_no,
        file_ref=_text(value(row, "file_ref")) or None,
        bank_code=bank_code,
        account_no=account,
        receiver_name=_text(value(row, "receiver_name")) or None,
        amount=amount,
        satang=int(amount.scaleb(2)),  # parse_amount allows at most 2 decimals
        status=normalise_status(raw_status, limits),
        raw_status=raw_status,
        reason_code=_text(value(row, "reason_code")) or None,
        reason_text=_text(value(row, "reason_text")) or None,
        value_date=_text(value(row, "value_date")) or None,
        bank_txn_ref=_text(value(row, "bank_txn_ref")) or None,
    )


def _csv_rows(text: str, delimiter: str) -> Iterator[tuple[int, Sequence[object]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ReportError(
                422,
                "invalid_lines",
                f"บรรทัดที่ {reader.line_num}: รูปแบบ CSV ไม่ถูกต้อง ({exc})",
                [{"line": reader.line_num, "message": f"รูปแบบ CSV ไม่ถูกต้อง ({exc})"}],
            ) from None
        yield reader.line_num, row


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, Sequence[object]]]:
    """Rows of the first sheet that has a header row (read-only, values only, defusedxml in place)."""
    from openpyxl import load_workbook  # imported here: only result imports read workbooks

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise _unsupported(f"เปิดไฟล์ Excel ไม่ได้ ({type(exc).__name__})") from None
    try:
        sheets: list[list[tuple[int, Sequence[object]]]] = []
        for sheet in workbook.worksheets:
            first = sheet.min_row or 1
            sheets.append(list(enumerate(sheet.iter_rows(values_only=True), start=first)))
    except Exception as exc:  # read-only mode parses a sheet's XML only here: malformed XML, entities
        raise _unsupported(f"อ่านแผ่นงานในไฟล์ Excel ไม่ได้ ({type(exc).__name__})") from None
    finally:
        workbook.close()
    chosen = sheets[0] if sheets else []
    for rows in sheets:
        try:
            _find_header(iter(rows))
        except ReportError:
            continue
        chosen = rows
        break
    yield from chosen
