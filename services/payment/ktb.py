"""KTB Corporate Online files (spec ktb-corporate-online.md §2, §4, §7, §9): pure, no database.

Each fixed-width layout is data (:class:`Layout`: field name, start, width, numeric or text,
default) and one generic writer/reader serves them all: the §2 "KTB iPay" writer and the parser
of the shape-2 echo of the bank's result report (``services.payment.reports``) use the same
tables.  Nothing is ever truncated or replaced: a value that does not fit, a character outside
cp874's Thai block and printable ASCII, or a rule of §9 broken becomes a :class:`LineProblem`
naming the line and the field, and no file is produced (:class:`FileRejected`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from services.payment.xlsx import Style, amount_cell, text_cell, write_table
from shared.banks import (
    BAAC_CODE,
    BANKS,
    GHB_CODE,
    GSB_CODE,
    HSBC_CODE,
    IBANK_CODE,
    KKP_CODE,
    KTB_CODE,
    TISCO_CODE,
    clean_account_no,
    ktb_receiving_fields,
)
from shared.errors import ValidationError
from shared.money import MAX_AMOUNT

__all__ = [
    "DETAIL",
    "ENCODING",
    "GROUPS",
    "HEADER",
    "RECORD_LENGTH",
    "XLSX_HEADINGS",
    "Field",
    "FileRejected",
    "FileSettings",
    "Layout",
    "LayoutError",
    "LineProblem",
    "PreparedLine",
    "Preparer",
    "TransferLine",
    "build_files",
    "check_text",
    "file_problems",
    "prepare_lines",
    "render_files",
    "write_txt",
    "write_xlsx",
]

ENCODING = "cp874"
RECORD_LENGTH = 498
CRLF = "\r\n"
GROUPS = ("ktb", "other")  # "Direct" (payees at KTB, bank 006) and "Standard" (other banks)


# --- layouts as data ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Field:
    """One fixed-width field: 1-based ``start``, ``width``, numeric (right, ``0``) or text (left, space)."""

    name: str
    start: int
    width: int
    numeric: bool
    default: str = ""


class LayoutError(ValueError):
    """A value does not fit its field, or a record does not follow its layout."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


class Layout:
    """A fixed-width record layout with a generic writer (:meth:`render`) and reader (:meth:`parse`)."""

    def __init__(self, name: str, length: int, fields: Sequence[Field]) -> None:
        position = 1
        for f in fields:
            if f.start != position:
                raise ValueError(f"{name}.{f.name} starts at {f.start}, expected {position}")
            if len(f.default) > f.width:
                raise ValueError(f"{name}.{f.name}: default wider than the field")
            position += f.width
        if position - 1 != length:
            raise ValueError(f"{name}: fields add up to {position - 1}, not {length}")
        self.name = name
        self.length = length
        self.fields = tuple(fields)
        self.by_name = {f.name: f for f in fields}
        # One str.format template for the whole record: padding is done in C, which keeps the
        # generic writer close to a hand-written f-string (benchmark: tests/perf/bench_payment.py).
        self._template = "".join(
            f"{{{i}:0>{f.width}}}" if f.numeric else f"{{{i}:<{f.width}}}" for i, f in enumerate(fields)
        )
        self._numeric_idx = tuple(i for i, f in enumerate(fields) if f.numeric)
        self._slices = tuple((f.name, f.start - 1, f.start - 1 + f.width, f.numeric) for f in fields)

    def render(self, values: Mapping[str, str]) -> str:
        """One record of exactly ``length`` characters; LayoutError when a value does not fit."""
        vals = [values.get(f.name, f.default) for f in self.fields]
        numeric = "".join(vals[i] for i in self._numeric_idx)
        if not (numeric.isascii() and numeric.isdigit()) and numeric:
            self._raise_numeric(vals)
        record = self._template.format(*vals)
        if len(record) != self.length:
            self._raise_width(vals)
        return record

    def _raise_numeric(self, vals: list[str]) -> None:
        for i in self._numeric_idx:
            v = vals[i]
            if v and not (v.isascii() and v.isdigit()):
                name = self.fields[i].name
                raise LayoutError(name, f"ช่อง {name} ต้องเป็นตัวเลขอารบิกเท่านั้น (ได้ {v!r})")

    def _raise_width(self, vals: list[str]) -> None:
        for f, v in zip(self.fields, vals, strict=True):
            if len(v) > f.width:
                raise LayoutError(f.name, f"ช่อง {f.name} ยาว {len(v)} ตัวอักษร เกินความกว้าง {f.width}")
        raise LayoutError("_", f"ระเบียนยาวไม่เท่ากับ {self.length} ตัวอักษร")  # pragma: no cover

    def compile(self, varying: Sequence[str], constants: Mapping[str, str]) -> RecordWriter:
        """A fast writer for many records: ``constants`` are checked and padded once, and each
        record formats only the ``varying`` fields (given positionally, in that order)."""
        return RecordWriter(self, varying, constants)

    def parse(self, record: str) -> dict[str, str]:
        """Split a record into its fields (text fields right-stripped); LayoutError if malformed."""
        if len(record) != self.length:
            raise LayoutError("_", f"ความยาว {len(record)} ตัวอักษร (ต้องเป็น {self.length})")
        out: dict[str, str] = {}
        for name, a, b, numeric in self._slices:
            value = record[a:b]
            if numeric:
                if not (value.isascii() and value.isdigit()):
                    raise LayoutError(name, f"ช่อง {name} (ตำแหน่ง {a + 1}-{b}) ต้องเป็นตัวเลข ได้ {value!r}")
                out[name] = value
            else:
                out[name] = value.rstrip(" ")
        return out


class RecordWriter:
    """Renders records of one layout whose other fields are fixed (see :meth:`Layout.compile`)."""

    def __init__(self, layout: Layout, varying: Sequence[str], constants: Mapping[str, str]) -> None:
        unknown = (set(varying) | set(constants)) - set(layout.by_name)
        if unknown:
            raise ValueError(f"{layout.name}: unknown fields {sorted(unknown)}")
        index = {name: i for i, name in enumerate(varying)}
        parts = []
        for f in layout.fields:
            if f.name in index:
                align = "0>" if f.numeric else "<"
                parts.append(f"{{{index[f.name]}:{align}{f.width}}}")
            else:
                # render the fixed value through the checked path once; escape braces for format()
                value = constants.get(f.name, f.default)
                one = Layout(f.name, f.width, [Field(f.name, 1, f.width, f.numeric)]).render({f.name: value})
                parts.append(one.replace("{", "{{").replace("}", "}}"))
        self.layout = layout
        self.varying = tuple(varying)
        self._template = "".join(parts)
        self._numeric = tuple(index[f.name] for f in layout.fields if f.numeric and f.name in index)
        self._numeric_slices = tuple(
            (f.start - 1, f.start - 1 + f.width) for f in layout.fields if f.numeric and f.name in index
        )

    def __call__(self, *values: str) -> str:
        """One record; LayoutError when a value is not digits (numeric fields) or does not fit."""
        numeric = "".join([values[i] for i in self._numeric])
        if numeric and not (numeric.isascii() and numeric.isdigit()):
            self.layout.render(dict(zip(self.varying, values, strict=True)))  # raises, naming the field
        record = self._template.format(*values)
        if len(record) != self.layout.length:
            self.layout.render(dict(zip(self.varying, values, strict=True)))  # raises, naming the field
        return record

    def many(self, rows: Iterable[Sequence[str]]) -> list[str] | None:
        """Many records, with the checks of :meth:`__call__` made once over all of them.

        None when any record breaks them: the caller then renders record by record to name it.
        ``format`` pads but never truncates, so every record is at least as long as the layout:
        the records are all exactly that long when their total is.  Then every field sits at its
        place, and a numeric value is all digits exactly when its zero-padded field is.
        """
        fmt = self._template.format
        records = [fmt(*values) for values in rows]
        if sum(map(len, records)) != len(records) * self.layout.length:
            return None
        digits = "".join([record[a:b] for record in records for a, b in self._numeric_slices])
        if not (digits.isascii() and digits.isdigit()) and digits:
            return None
        return records


def _n(name: str, start: int, width: int, default: str = "") -> Field:
    return Field(name, start, width, True, default)


def _a(name: str, start: int, width: int, default: str = "") -> Field:
    return Field(name, start, width, False, default)


#: §2.2 header record (record type 1).
HEADER = Layout(
    "header",
    RECORD_LENGTH,
    [
        _n("file_type", 1, 2, "10"),
        _n("record_type", 3, 1, "1"),
        _n("batch_no", 4, 6, "000001"),
        _n("sending_bank", 10, 3, KTB_CODE),
        _n("total_txn", 13, 7),
        _n("total_amount", 20, 19),
        _n("effective_date", 39, 8),
        _a("txn_code", 47, 1, "C"),
        _n("receiver_no", 48, 8, "00000000"),
        _a("company_id", 56, 16),
        _a("user_id", 72, 20),
        _a("filler", 92, 407),
    ],
)

#: §2.3 detail record (record type 2).
DETAIL = Layout(
    "detail",
    RECORD_LENGTH,
    [
        _n("file_type", 1, 2, "10"),
        _n("record_type", 3, 1, "2"),
        _n("batch_no", 4, 6, "000001"),
        _n("recv_bank", 10, 3),
        _n("recv_branch", 13, 4, "0000"),
        _n("recv_acct", 17, 11),
        _n("send_bank", 28, 3, KTB_CODE),
        _n("send_branch", 31, 4),
        _n("send_acct", 35, 11),
        _n("effective_date", 46, 8),
        _n("service_type", 54, 2),
        _n("clearing_house", 56, 2, "00"),
        _n("amount", 58, 17),
        _a("receiver_info", 75, 8),
        _n("receiver_id", 83, 10, "0000000000"),
        _a("receiver_name", 93, 100),
        _a("sender_name", 193, 100),
        _a("other_info1", 293, 40),
        _a("dda_ref1", 333, 18),
        _a("reserved1", 351, 2),
        _a("ref2", 353, 18),
        _a("reserved2", 371, 2),
        _a("other_info2", 373, 20),
        _n("running_no", 393, 6),
        _n("status", 399, 2, "09"),
        _a("email", 401, 40),
        _a("mobile", 441, 20),
        _n("sub_branch", 461, 4, "0000"),
        _a("filler", 465, 34),
    ],
)

MAX_RUNNING_NO = 999_999  # width of the running-number field
_CENT = Decimal("0.01")


# --- text rules (§9) ----------------------------------------------------------------------------
# cp874 also encodes typographic quotes, dashes, the ellipsis and the no-break space; §9 wants
# them refused, so the allowed set is printable ASCII plus the Thai block U+0E01–U+0E5B.
_ALLOWED_TEXT = re.compile("[\x20-\x7e\u0e01-\u0e5b]*")
_REF2 = re.compile("[\x21-\x7e]([\x20-\x7e]{0,16}[\x21-\x7e])?")
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}", re.ASCII)
_MOBILE = re.compile(r"[0-9]{9,10}", re.ASCII)
_SERVICE_TYPE = re.compile(r"[0-9]{2}", re.ASCII)
_DEBIT_ACCOUNT = re.compile(r"[0-9]{10}", re.ASCII)


def check_text(value: str, *, label: str, max_len: int, min_len: int = 1) -> str:
    """NFC-normalise and strip a name; ValidationError if empty, too long or not KTB-safe."""
    text = unicodedata.normalize("NFC", value).strip()
    if len(text) < min_len:
        raise ValidationError(f"กรุณาระบุ{label}", code="required")
    if len(text) > max_len:
        raise ValidationError(
            f"{label}ยาว {len(text)} ตัวอักษร เกิน {max_len} ตัวอักษร (ระบบไม่ตัดข้อความให้)", code="too_long"
        )
    if _ALLOWED_TEXT.fullmatch(text) is None:
        bad = next(ch for ch in text if _ALLOWED_TEXT.fullmatch(ch) is None)
        raise ValidationError(
            f"{label}มีอักขระ {bad!r} (U+{ord(bad):04X}) ที่ไฟล์ KTB (cp874) รับไม่ได้"
            " ใช้ได้เฉพาะอักษรไทยและตัวอักษร/ตัวเลขภาษาอังกฤษ",
            code="unsupported_character",
        )
    return text


# --- inputs and outputs ---------------------------------------------------------------------------
@dataclass(frozen=True)
class FileSettings:
    """What one file needs from configuration (spec §2, §3; PROPOSAL values are settings)."""

    company_id: str
    debit_account: str
    sender_name: str
    service_type_direct: str = "14"
    service_type_standard: str = "59"
    standard_line_limit: Decimal = Decimal("2000000.00")  # strictly below (§3.3)
    direct_line_limit: Decimal = MAX_AMOUNT
    max_lines_per_file: int = MAX_RUNNING_NO
    xlsx_number_row: bool = True

    def problems(self) -> list[str]:
        """What is wrong with these settings (empty when usable)."""
        out = []
        if not self.company_id or len(self.company_id) > 16 or not self.company_id.isascii():
            out.append("KTB_COMPANY_ID ต้องเป็นตัวอักษรภาษาอังกฤษหรือตัวเลข 1-16 ตัว")
        if _DEBIT_ACCOUNT.fullmatch(self.debit_account) is None:
            out.append("KTB_DEBIT_ACCOUNT ต้องเป็นเลขบัญชีกรุงไทย 10 หลัก")
        try:
            check_text(self.sender_name, label="ชื่อผู้โอน (KTB_SENDER_NAME)", max_len=100)
        except ValidationError as exc:
            out.append(exc.message)
        for name, value in (
            ("KTB_SERVICE_TYPE_DIRECT", self.service_type_direct),
            ("KTB_SERVICE_TYPE_STANDARD", self.service_type_standard),
        ):
            if _SERVICE_TYPE.fullmatch(value) is None:
                out.append(f"{name} ต้องเป็นตัวเลข 2 หลัก")
        if not 1 <= self.max_lines_per_file <= MAX_RUNNING_NO:
            out.append(f"KTB_MAX_LINES_PER_FILE ต้องอยู่ระหว่าง 1 ถึง {MAX_RUNNING_NO}")
        return out

    def service_type(self, group: str) -> str:
        """The service type code of a file group."""
        return self.service_type_direct if group == "ktb" else self.service_type_standard


@dataclass(slots=True)  # not frozen: a frozen dataclass is slow to build 100,000 times
class TransferLine:
    """One payee to pay, as the payment service holds it (``key`` and ``label`` name it in problems)."""

    key: object
    label: str
    bank_code: str
    branch_code: str | None
    account_no: str
    receiver_name: str
    amount: Decimal
    ref2: str
    email: str | None = None
    mobile: str | None = None


@dataclass(slots=True)
class PreparedLine:
    """A line that passed §9, with its fields as they are written."""

    key: object
    ref2: str
    running_no: int
    bank_code: str
    account_no: str  # digits as the payee gave them (Excel register)
    recv_branch: str  # 4 digits (§7)
    recv_acct: str  # 11 digits (§7)
    receiver_name: str
    satang: int
    amount: Decimal
    email: str
    mobile: str


@dataclass(frozen=True)
class LineProblem:
    """Why a line cannot go into a file: the line, the field and a Thai message."""

    key: object
    label: str
    field: str
    code: str
    message: str

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "line": self.key,
            "label": self.label,
            "field": self.field,
            "code": self.code,
            "message": self.message,
        }


class FileRejected(Exception):
    """No file is produced: the problems of every offending line (and of the file itself)."""

    def __init__(self, problems: Sequence[LineProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = list(problems)


def _amount_problem(amount: object, group: str, settings: FileSettings) -> tuple[str, str] | None:
    """(code, Thai message) when an amount breaks §9, else None."""
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        return "amount_not_positive", "จำนวนเงินต้องมากกว่า 0"
    if amount > MAX_AMOUNT:
        return "amount_too_large", "จำนวนเงินเกินความกว้างของช่องในไฟล์ KTB"
    if amount.quantize(_CENT) != amount:
        return "invalid_amount", "จำนวนเงินมีทศนิยมเกิน 2 ตำแหน่ง"
    if group == "other" and amount >= settings.standard_line_limit:
        return (
            "amount_over_standard_limit",
            f"ยอดโอนต่างธนาคารต่อรายต้องต่ำกว่า {settings.standard_line_limit:,.2f} บาท"
            f" (รายการนี้ {amount:,.2f} บาท)",
        )
    if group == "ktb" and amount > settings.direct_line_limit:
        return (
            "amount_over_direct_limit",
            f"ยอดโอนภายในธนาคารกรุงไทยต่อรายต้องไม่เกิน {settings.direct_line_limit:,.2f} บาท",
        )
    return None


def _prepare_one(
    line: TransferLine, running_no: int, group: str, settings: FileSettings
) -> PreparedLine | list[LineProblem]:
    problems: list[LineProblem] = []

    def bad(field_name: str, code: str, message: str) -> None:
        problems.append(LineProblem(line.key, line.label, field_name, code, message))

    if (line.bank_code == KTB_CODE) != (group == "ktb"):
        what = "ไฟล์ธนาคารกรุงไทย (Direct)" if group == "ktb" else "ไฟล์ธนาคารอื่น (Standard)"
        bad("bank_code", "wrong_group", f"รหัสธนาคาร {line.bank_code} ใส่ใน{what}ไม่ได้")
    branch, acct, account_no = "0000", "", line.account_no
    try:
        branch, acct = ktb_receiving_fields(line.bank_code, line.branch_code, line.account_no)
        account_no = clean_account_no(line.account_no)
    except ValidationError as exc:
        bad(exc.field or "account_no", exc.code, exc.message)
    name = line.receiver_name
    try:
        name = check_text(line.receiver_name, label="ชื่อบัญชีผู้รับเงิน", max_len=100)
    except ValidationError as exc:
        bad("account_name", exc.code, exc.message)
    amount_problem = _amount_problem(line.amount, group, settings)
    if amount_problem:
        bad("amount", *amount_problem)
    if _REF2.fullmatch(line.ref2 or "") is None:
        bad("ref2", "invalid_ref2", "เลขอ้างอิง (ref2) ต้องเป็นอักขระภาษาอังกฤษ 1-18 ตัว")
    email = (line.email or "").strip()
    if email and (len(email) > 40 or _EMAIL.fullmatch(email) is None):
        bad("email", "invalid_email", "อีเมลต้องมีรูปแบบถูกต้องและยาวไม่เกิน 40 ตัวอักษร")
    mobile = "".join((line.mobile or "").split()).replace("-", "")
    if mobile and _MOBILE.fullmatch(mobile) is None:
        bad("phone", "invalid_mobile", "หมายเลขโทรศัพท์มือถือต้องเป็นตัวเลข 9-10 หลัก")
    if problems:
        return problems
    return PreparedLine(
        key=line.key,
        ref2=line.ref2,
        running_no=running_no,
        bank_code=line.bank_code,
        account_no=account_no,
        recv_branch=branch,
        recv_acct=acct,
        receiver_name=name,
        satang=int(line.amount.scaleb(2)),
        amount=line.amount,
        email=email,
        mobile=mobile,
    )


# Banks whose §7 receiving fields are simply "0000" and the account left-padded to 11 digits:
# active, no branch code required, no special account rule, accounts of at most 11 digits.  For
# them (and a plain-digit account, no branch given) ``_fast_prepare`` computes what
# ``ktb_receiving_fields`` would; every other line takes the general path.  The two are checked
# against each other by a property test (tests/payment/unit/test_ktb.py).
_SPECIAL_ACCOUNT_RULES = frozenset(
    {GSB_CODE, GHB_CODE, BAAC_CODE, HSBC_CODE, TISCO_CODE, KKP_CODE, IBANK_CODE}
)
_SIMPLE_BANKS: dict[str, frozenset[int]] = {
    bank.code: frozenset(bank.account_lengths)
    for bank in BANKS
    if bank.active
    and not bank.branch_code_required
    and bank.code not in _SPECIAL_ACCOUNT_RULES
    and max(bank.account_lengths) <= 11
}
_NO_PROBLEM_EXPONENT = -2  # a Decimal with exponent ≥ -2 has at most two decimals


def _fast_prepare(
    line: TransferLine, running_no: int, is_ktb_file: bool, limit: Decimal, below: bool
) -> PreparedLine | None:
    """The common line, checked by the same rules as :func:`_prepare_one` without its general
    machinery; None when anything is unusual (the general path then decides and explains)."""
    bank = line.bank_code
    lengths = _SIMPLE_BANKS.get(bank)
    account = line.account_no
    if (
        lengths is None
        or (bank == KTB_CODE) is not is_ktb_file
        or line.branch_code
        or not (type(account) is str and account.isascii() and account.isdigit())
        or len(account) not in lengths
    ):
        return None
    name = line.receiver_name
    if type(name) is not str:
        return None
    name = unicodedata.normalize("NFC", name).strip()
    if not 0 < len(name) <= 100 or _ALLOWED_TEXT.fullmatch(name) is None:
        return None
    amount = line.amount
    if (
        type(amount) is not Decimal
        or not amount.is_finite()
        or amount <= 0
        or amount > MAX_AMOUNT
        or amount.as_tuple().exponent < _NO_PROBLEM_EXPONENT  # type: ignore[operator]
        or (amount >= limit if below else amount > limit)
    ):
        return None
    ref2 = line.ref2
    if type(ref2) is not str or _REF2.fullmatch(ref2) is None:
        return None
    email = line.email
    if email:
        email = email.strip()
        if email and (len(email) > 40 or _EMAIL.fullmatch(email) is None):
            return None
    mobile = line.mobile
    if mobile:
        mobile = "".join(mobile.split()).replace("-", "")
        if mobile and _MOBILE.fullmatch(mobile) is None:
            return None
    return PreparedLine(
        line.key,
        ref2,
        running_no,
        bank,
        account,
        "0000",
        account.zfill(11),
        name,
        int(amount.scaleb(2)),
        amount,
        email or "",
        mobile or "",
    )


class Preparer:
    """:func:`prepare_lines` fed in parts: running numbers and the ref2 duplicate check carry on
    from one part to the next, so the parts together give exactly what one call would."""

    def __init__(self, *, group: str, settings: FileSettings) -> None:
        if group not in GROUPS:
            raise ValueError(group)
        self.group, self.settings = group, settings
        self.is_ktb = group == "ktb"
        self.limit = settings.direct_line_limit if self.is_ktb else settings.standard_line_limit
        self.seen: set[str] = set()
        self.position = 0

    def feed(self, lines: Iterable[TransferLine]) -> tuple[list[PreparedLine], list[LineProblem]]:
        """Check the next lines; their prepared forms and their problems."""
        prepared: list[PreparedLine] = []
        problems: list[LineProblem] = []
        seen, group, settings, is_ktb, limit = self.seen, self.group, self.settings, self.is_ktb, self.limit
        fast, general = _fast_prepare, _prepare_one
        for position, line in enumerate(lines, start=self.position + 1):
            result = fast(line, position, is_ktb, limit, not is_ktb) or general(
                line, position, group, settings
            )
            if line.ref2 in seen:
                message = f"ref2 {line.ref2} ซ้ำในไฟล์"
                problems.append(LineProblem(line.key, line.label, "ref2", "duplicate_ref2", message))
            seen.add(line.ref2)
            if isinstance(result, list):
                problems.extend(result)
            else:
                prepared.append(result)
            self.position = position
        return prepared, problems


def prepare_lines(
    lines: Iterable[TransferLine], *, group: str, settings: FileSettings
) -> tuple[list[PreparedLine], list[LineProblem]]:
    """Check every line against §9 and compute its fields; running numbers follow the given order."""
    return Preparer(group=group, settings=settings).feed(lines)


def _file_problem(code: str, message: str) -> LineProblem:
    return LineProblem(None, "", "_", code, message)


def _check_file(prepared: Sequence[PreparedLine], settings: FileSettings) -> list[LineProblem]:
    out = [_file_problem("invalid_settings", p) for p in settings.problems()]
    if not prepared:
        out.append(_file_problem("empty_file", "ไม่มีรายการสำหรับจัดทำไฟล์ (ระบบไม่สร้างไฟล์ว่าง)"))
    if len(prepared) > settings.max_lines_per_file:
        out.append(_file_problem("too_many_lines", f"ไฟล์หนึ่งมีได้ไม่เกิน {settings.max_lines_per_file} รายการ"))
    return out


def write_txt(
    prepared: Sequence[PreparedLine], *, group: str, settings: FileSettings, effective_date: dt.date
) -> bytes:
    """The §2 "KTB iPay" file: header + details, 498 characters each, CR LF after every record, cp874.

    Running numbers are 1..N in the given order (renumbered here, so the file never has gaps).
    :raises FileRejected: the settings or a value break a rule (nothing is truncated).
    """
    problems = _check_file(prepared, settings)
    if problems:
        raise FileRejected(problems)
    date = effective_date.strftime("%d%m%Y")
    sender = check_text(settings.sender_name, label="ชื่อผู้โอน", max_len=100)
    writer = DETAIL.compile(
        _VARYING,
        {
            "send_branch": "0" + settings.debit_account[:3],
            "send_acct": "0" + settings.debit_account,
            "effective_date": date,
            "service_type": settings.service_type(group),
            "sender_name": sender,
        },
    )
    total = sum([p.satang for p in prepared])
    rows = [
        (
            p.bank_code,
            p.recv_branch,
            p.recv_acct,
            str(p.satang),
            p.receiver_name,
            p.ref2,
            str(n),
            p.email,
            p.mobile,
        )
        for n, p in enumerate(prepared, start=1)
    ]
    records = writer.many(rows)
    if records is None:  # find the record that does not fit and name it
        for p, values in zip(prepared, rows, strict=True):
            try:
                writer(*values)
            except LayoutError as exc:
                raise FileRejected(
                    [LineProblem(p.key, p.ref2, exc.field, "does_not_fit", exc.message)]
                ) from None
        raise AssertionError("many() refused records that one by one are fine")  # pragma: no cover
    header = HEADER.render(
        {
            "total_txn": str(len(prepared)),
            "total_amount": str(total),
            "effective_date": date,
            "company_id": settings.company_id,
        }
    )
    records.insert(0, header)
    text = CRLF.join(records) + CRLF
    try:
        data = text.encode(ENCODING)  # strict: never a silent replacement
    except UnicodeEncodeError as exc:  # pragma: no cover - check_text admits only cp874 characters
        message = f"อักขระที่ตำแหน่ง {exc.start} เข้ารหัส cp874 ไม่ได้"
        raise FileRejected([_file_problem("encoding", message)]) from None
    # cp874 is one byte per character: every record is 498 bytes, every line 500 with CR LF.
    assert len(data) == len(records) * (RECORD_LENGTH + 2), "a record is not 498 bytes in cp874"
    return data


_VARYING = (
    "recv_bank",
    "recv_branch",
    "recv_acct",
    "amount",
    "receiver_name",
    "ref2",
    "running_no",
    "email",
    "mobile",
)

# A first character that could make Excel read a cell as a formula (or whitespace before one), and
# characters XML needs escaped: rows with either take the general cell writer.
_XLSX_RISKY_FIRST = re.compile(r"[=+\-@\t\r\0\s]")
_XLSX_ESCAPE = re.compile('[&<>"]')

XLSX_HEADINGS = (
    "Receiving Bank Code",
    "Receiving A/C No.",
    "Receiver Name",
    "Transfer Amount",
    "Citizen ID/Tax ID",
    "DDA Ref",
    "Reference No./ DDA Ref 2",
    "Email",
    "Mobile No.",
)


def write_xlsx(
    prepared: Sequence[PreparedLine],
    *,
    group: str,
    settings: FileSettings,
    effective_date: dt.date,
    created_at: dt.datetime | None = None,
) -> bytes:
    """The §4 Excel register (9 columns) of the same lines: codes, accounts, refs as text; amounts 0.00.

    Text cells are strings with the text format ``@`` (leading zeros survive editing) and the
    quote prefix when they look like a formula, so Excel never evaluates them (reliability S7);
    the value itself is not altered.  Amounts are numeric cells (exact Decimal) shown with two
    decimals.  The citizen ID column stays empty: no event brings the national ID to payment.
    """
    problems = _check_file(prepared, settings)
    if problems:
        raise FileRejected(problems)
    text, heading = Style.TEXT, Style.HEADING

    def rows() -> Iterator[list[tuple[object, Style]] | str]:
        if settings.xlsx_number_row:
            yield [(str(i), text) for i in range(1, len(XLSX_HEADINGS) + 1)]
        yield [(h, heading) for h in XLSX_HEADINGS]
        empty = '<c s="1"/>'
        start, end = '<c s="1" t="inlineStr"><is><t xml:space="preserve">', "</t></is></c>"
        risky, escape = _XLSX_RISKY_FIRST.search, _XLSX_ESCAPE.search
        for p in prepared:  # one pre-rendered row per payee
            b, a, n, r, e, m = p.bank_code, p.account_no, p.receiver_name, p.ref2, p.email, p.mobile
            if (
                b
                and a
                and n
                and r
                and not risky(b[:1] + a[:1] + n[:1] + r[:1] + e[:1] + m[:1])
                and not escape(b + a + n + r + e + m)
                and type(p.amount) is Decimal
                and p.amount.is_finite()
            ):
                # The usual row: nothing to escape, nothing that could read as a formula, so the
                # cells are exactly what text_cell/amount_cell make, written in one go.
                yield (
                    f"{start}{b}{end}{start}{a}{end}{start}{n}{end}"
                    f'<c s="4"><v>{p.amount:f}</v></c>{empty}{empty}{start}{r}{end}'
                    f"{f'{start}{e}{end}' if e else empty}{f'{start}{m}{end}' if m else empty}"
                )
            else:
                yield (
                    f"{text_cell(b)}{text_cell(a)}{text_cell(n)}{amount_cell(p.amount)}{empty}{empty}"
                    f"{text_cell(r)}{text_cell(e)}{text_cell(m)}"
                )

    stamp = created_at or dt.datetime.combine(effective_date, dt.time(), tzinfo=dt.UTC)
    return write_table(
        rows(),
        sheet_name="KTB Corporate Online",
        widths=(20, 20, 40, 16, 18, 12, 26, 30, 14),
        created=stamp.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


@dataclass(frozen=True)
class BuiltFiles:
    """A file's two renderings and what the manifest records."""

    prepared: list[PreparedLine]
    txt: bytes
    xlsx: bytes
    txt_sha256: str
    xlsx_sha256: str
    total_satang: int
    line_count: int
    problems: list[LineProblem] = field(default_factory=list)


def file_problems(prepared: Sequence[PreparedLine], settings: FileSettings) -> list[LineProblem]:
    """Problems of the file as a whole (settings, no lines, too many lines); empty when it can be made."""
    return _check_file(prepared, settings)


def render_files(
    prepared: list[PreparedLine],
    *,
    group: str,
    settings: FileSettings,
    effective_date: dt.date,
    created_at: dt.datetime | None = None,
) -> BuiltFiles:
    """The text file and the Excel register of lines that passed :func:`prepare_lines`.

    :raises FileRejected: a file-level rule is broken or a value does not fit its field.
    """
    txt = write_txt(prepared, group=group, settings=settings, effective_date=effective_date)
    xlsx = write_xlsx(
        prepared, group=group, settings=settings, effective_date=effective_date, created_at=created_at
    )
    return BuiltFiles(
        prepared=prepared,
        txt=txt,
        xlsx=xlsx,
        txt_sha256=hashlib.sha256(txt).hexdigest(),
        xlsx_sha256=hashlib.sha256(xlsx).hexdigest(),
        total_satang=sum([p.satang for p in prepared]),
        line_count=len(prepared),
    )


def build_files(
    lines: Sequence[TransferLine],
    *,
    group: str,
    settings: FileSettings,
    effective_date: dt.date,
    created_at: dt.datetime | None = None,
) -> BuiltFiles:
    """Validate every line (§9) and render the text file and the Excel register of the same lines.

    :raises FileRejected: with every problem of every line; no partial file is ever produced.
    """
    prepared, problems = prepare_lines(lines, group=group, settings=settings)
    if problems:
        raise FileRejected(problems)
    return render_files(
        prepared, group=group, settings=settings, effective_date=effective_date, created_at=created_at
    )
