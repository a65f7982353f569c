"""Rules of the welfare card measure without Flask or a database: reading and checking list lines,
deadlines, scopes.

A participants list is a CSV (UTF-8, or TIS-620/cp874 as Thai spreadsheets export it) or an xlsx
file whose first row names the columns (Thai or English, see ``COLUMNS``).  Each line is checked on
its own: national ID (13 digits and the check digit), area code (a district of the province the
file is for), agency (one of the six, the one the file is for), group and names.  A file with any
bad line is rejected whole, its errors listed by line number.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from shared.errors import ValidationError
from shared.thai import parse_national_id
from shared.welfare_card import AGENCIES, GROUPS, agency_from_text, group_from_text

BANGKOK_TZ = dt.timezone(dt.timedelta(hours=7))
AGENCY_NAMES = {a.code: a.name_th for a in AGENCIES}


class WelfareCardError(Exception):
    """A refusal with an HTTP status, a Thai message and optionally the field it is about."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class NotFound(WelfareCardError):
    """Unknown, or outside the caller's scope (its existence is not revealed)."""

    status = 404
    code = "not_found"


class Forbidden(WelfareCardError):
    """The role may not do this here."""

    status = 403
    code = "forbidden"


class Conflict(WelfareCardError):
    """The state does not allow it (e.g. an intent already recorded)."""

    status = 409
    code = "conflict"


class UnsupportedFile(WelfareCardError):
    """Not a CSV or xlsx list."""

    status = 415
    code = "unsupported_file"


class FileTooLarge(WelfareCardError):
    """Over the size limit (or an xlsx that would unpack too far)."""

    status = 413
    code = "file_too_large"


class FileProblem(WelfareCardError):
    """The file as a whole cannot be read as a list (no header, missing columns, broken xlsx)."""

    code = "unreadable_file"


# --- columns -------------------------------------------------------------------------------------
#: field -> the header names a list may use for it (compared without spaces, case-insensitively).
COLUMNS: dict[str, tuple[str, ...]] = {
    "national_id": ("national_id", "เลขประจำตัวประชาชน", "เลขบัตรประจำตัวประชาชน", "เลขบัตรประชาชน"),
    "title": ("title", "คำนำหน้า", "คำนำหน้าชื่อ"),
    "first_name": ("first_name", "ชื่อ"),
    "last_name": ("last_name", "นามสกุล"),
    "province_code": ("province_code", "รหัสจังหวัด"),
    "area_code": ("area_code", "district_code", "รหัสอำเภอ", "รหัสเขต", "รหัสเขต/อำเภอ", "รหัสเขตอำเภอ"),
    "agency": ("agency", "หน่วยงานพัฒนา", "หน่วยงาน"),
    "group": ("group", "กลุ่ม", "กลุ่มเป้าหมาย"),
}
REQUIRED_COLUMNS = ("national_id", "first_name", "last_name", "area_code", "group")
COLUMN_TH = {
    "national_id": "เลขประจำตัวประชาชน",
    "title": "คำนำหน้า",
    "first_name": "ชื่อ",
    "last_name": "นามสกุล",
    "province_code": "รหัสจังหวัด",
    "area_code": "รหัสเขต/อำเภอ",
    "agency": "หน่วยงานพัฒนา",
    "group": "กลุ่ม",
}
_HEADER_LOOKUP = {"".join(name.split()).casefold(): f for f, names in COLUMNS.items() for name in names}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ID_SEPARATORS = re.compile(r"[ \-]")


def header_map(row: tuple[str, ...]) -> dict[str, int]:
    """Field -> column index, from a header row.

    :raises FileProblem: a required column is missing or a column is named twice.
    """
    found: dict[str, int] = {}
    for index, cell in enumerate(row):
        key = _HEADER_LOOKUP.get("".join(str(cell or "").split()).casefold())
        if key is None:
            continue
        if key in found:
            raise FileProblem(f"หัวตารางมีคอลัมน์ {COLUMN_TH[key]} ซ้ำกัน", field="file", code="duplicate_column")
        found[key] = index
    missing = [COLUMN_TH[f] for f in REQUIRED_COLUMNS if f not in found]
    if missing:
        raise FileProblem(
            "แถวแรกของไฟล์ต้องเป็นหัวตาราง ไม่พบคอลัมน์: " + ", ".join(missing), field="file", code="missing_columns"
        )
    return found


# --- reading files ---------------------------------------------------------------------------------
def sniff(data: bytes, filename: str | None) -> str:
    """``"xlsx"`` or ``"csv"``.

    :raises FileProblem: empty.  :raises UnsupportedFile: another kind of file (PDF, old .xls, binary).
    """
    if not data.strip():
        raise FileProblem("ไฟล์ว่างเปล่า", field="file", code="empty_file")
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    name = (filename or "").lower()
    if (
        data.startswith((b"%PDF", b"\xd0\xcf\x11\xe0"))
        or name.endswith((".xls", ".pdf"))
        or b"\x00" in data[:4096]
    ):
        raise UnsupportedFile(
            "รองรับเฉพาะไฟล์ .xlsx หรือ .csv (หากเป็น .xls กรุณาบันทึกเป็น .xlsx ก่อน)", field="file"
        )
    return "csv"


def decode_csv(data: bytes) -> str:
    """The text of a CSV: UTF-8 (with or without BOM), else TIS-620/cp874 (Thai Excel's default)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return codecs.decode(data, "cp874")
    except UnicodeDecodeError:
        raise FileProblem(
            "อ่านไฟล์ CSV ไม่ได้: ต้องเข้ารหัสแบบ UTF-8 หรือ TIS-620", field="file", code="bad_encoding"
        ) from None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a national ID typed as a number (13 digits are exact in a float)
    return str(value).strip()


def iter_rows(data: bytes, kind: str, *, max_unpacked: int) -> Iterator[tuple[int, tuple[str, ...]]]:
    """(line number, cells) of every row, the header included (line 1 is the first line).

    :raises FileProblem: a broken xlsx.  :raises FileTooLarge: an xlsx that unpacks too far.
    """
    if kind == "csv":
        reader = csv.reader(io.StringIO(decode_csv(data), newline=""))
        try:
            start = 1
            for row in reader:
                yield start, tuple(c.strip() for c in row)
                start = reader.line_num + 1
        except csv.Error as exc:
            raise FileProblem(f"ไฟล์ CSV ผิดรูปแบบที่บรรทัด {reader.line_num}: {exc}", field="file") from None
        return
    yield from _xlsx_rows(data, max_unpacked)


def _xlsx_rows(data: bytes, max_unpacked: int) -> Iterator[tuple[int, tuple[str, ...]]]:
    import openpyxl  # imported here: only xlsx lists need it

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            unpacked = sum(i.file_size for i in z.infolist())
    except zipfile.BadZipFile:
        raise FileProblem("ไฟล์ .xlsx เสียหายหรือไม่ใช่ไฟล์ Excel", field="file", code="bad_xlsx") from None
    if unpacked > max_unpacked:
        raise FileTooLarge("ไฟล์ .xlsx ขยายแล้วมีขนาดใหญ่เกินกำหนด", field="file")
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged package
        raise FileProblem("ไฟล์ .xlsx เสียหายหรือไม่ใช่ไฟล์ Excel", field="file", code="bad_xlsx") from None
    number = 0
    try:
        sheet = workbook.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, tuple(_cell(v) for v in row)
    except WelfareCardError:
        raise
    except Exception:  # a sheet damaged past its first rows: the file is refused, never retried
        raise FileProblem(f"ไฟล์ .xlsx เสียหายหลังแถวที่ {number}", field="file", code="bad_xlsx") from None
    finally:
        workbook.close()


# --- lines -------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LineError:
    """Why one line of a list was refused."""

    line: int
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        """JSON form ``{line, field, message}``."""
        return {"line": self.line, "field": self.field, "message": self.message}


#: A checked line, in the staging table's column order:
#: (line, national_id, title, first_name, last_name, province_code, area_code, agency, group)
StagedRow = tuple[int, str, str | None, str, str, str, str, str, str]


class LineChecker:
    """Checks the lines of one list against the areas of Thailand and the file's province and agency."""

    def __init__(
        self, columns: Mapping[str, int], *, areas: Mapping[str, str], province_code: str, agency: str
    ):
        self.columns = dict(columns)
        self.areas = areas  # area code -> province code
        self.province_code = province_code
        self.agency = agency
        self.width = max(self.columns.values()) + 1
        # A list repeats the same few agency and group texts: look each one up once.
        self._agencies: dict[str, str | None] = {}
        self._groups: dict[str, str | None] = {}

    def check(self, line: int, cells: tuple[str, ...]) -> StagedRow | list[LineError]:
        """The staged row, or every problem of the line."""
        if len(cells) < self.width:
            cells = cells + ("",) * (self.width - len(cells))
        get = self.columns.get
        errors: list[LineError] = []

        raw_id = _ID_SEPARATORS.sub("", cells[self.columns["national_id"]])
        national_id = ""
        try:
            national_id = parse_national_id(raw_id)
        except ValidationError as exc:
            errors.append(LineError(line, "national_id", exc.message))

        names: dict[str, str] = {}
        for name, limit in (("title", 40), ("first_name", 100), ("last_name", 100)):
            index = get(name)
            value = cells[index] if index is not None else ""
            if not value and name != "title":
                errors.append(LineError(line, name, f"กรุณากรอก{COLUMN_TH[name]}"))
            elif len(value) > limit:
                errors.append(LineError(line, name, f"{COLUMN_TH[name]}ยาวเกิน {limit} ตัวอักษร"))
            elif _CONTROL.search(value):
                errors.append(LineError(line, name, f"{COLUMN_TH[name]}มีอักขระควบคุมที่ไม่อนุญาต"))
            names[name] = value

        area = cells[self.columns["area_code"]]
        province = self.areas.get(area)
        if province is None:
            errors.append(
                LineError(
                    line, "area_code", f"ไม่พบรหัสเขต/อำเภอ {area[:20]!r} (ต้องเป็นรหัส 4 หลักของกรมการปกครอง)"
                )
            )
        elif province != self.province_code:
            errors.append(
                LineError(line, "area_code", f"รหัสเขต/อำเภอ {area} ไม่อยู่ในจังหวัดของไฟล์นี้ ({self.province_code})")
            )
        index = get("province_code")
        if index is not None and cells[index] and cells[index] != self.province_code:
            errors.append(
                LineError(
                    line,
                    "province_code",
                    f"รหัสจังหวัด {cells[index][:20]!r} ไม่ตรงกับจังหวัดของไฟล์ ({self.province_code})",
                )
            )

        index = get("agency")
        agency = self.agency
        if index is not None and cells[index]:
            text = cells[index]
            named = self._agencies.get(text, "?")
            if named == "?":
                named = self._agencies[text] = agency_from_text(text)
            if named is None:
                errors.append(
                    LineError(
                        line,
                        "agency",
                        f"ไม่รู้จักหน่วยงานพัฒนา {cells[index][:60]!r} (ต้องเป็น: "
                        + ", ".join(AGENCY_NAMES.values())
                        + ")",
                    )
                )
            elif named != self.agency:
                errors.append(
                    LineError(
                        line,
                        "agency",
                        f"หน่วยงานพัฒนา {AGENCY_NAMES[named]} ไม่ตรงกับหน่วยงานของไฟล์"
                        f" ({AGENCY_NAMES[self.agency]})",
                    )
                )

        raw_group = cells[self.columns["group"]]
        group = self._groups.get(raw_group, "?")
        if group == "?":
            group = self._groups[raw_group] = group_from_text(raw_group)
        if group is None:
            errors.append(
                LineError(
                    line,
                    "group",
                    f"ไม่รู้จักกลุ่ม {raw_group[:60]!r} (ต้องเป็น 1 = {GROUPS['not_developed']} "
                    f"หรือ 2 = {GROUPS['low_income']})",
                )
            )
        if errors:
            return errors
        assert province is not None
        assert group is not None
        return (
            line,
            national_id,
            names["title"] or None,
            names["first_name"],
            names["last_name"],
            province,
            area,
            agency,
            group,
        )


def is_blank(cells: tuple[str, ...]) -> bool:
    """A line with nothing in it (skipped, as spreadsheets leave them at the end)."""
    return not any(cells)


# --- deadlines ---------------------------------------------------------------------------------------
def bangkok_date(moment: dt.datetime) -> dt.date:
    """The calendar date in Bangkok of a UTC moment."""
    return moment.astimezone(BANGKOK_TZ).date()


def is_late(recorded_at: dt.datetime, record_by: dt.date | None) -> bool:
    """Recorded (Bangkok date) after the deadline."""
    return record_by is not None and bangkok_date(recorded_at) > record_by


def check_recorded_on(recorded_on: dt.date, now: dt.datetime, field: str = "recorded_on") -> None:
    """A record's date may not be in the future (Bangkok time).

    :raises WelfareCardError: it is.
    """
    if recorded_on > bangkok_date(now):
        raise WelfareCardError("วันที่ต้องไม่เป็นวันในอนาคต", field=field, code="date_in_future")
