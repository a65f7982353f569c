"""KTB Corporate Online files (spec §2, §4, §7, §9, §10): byte-exact vectors, round trips, rules."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import zipfile
from dataclasses import replace
from decimal import Decimal
from unittest import mock

import openpyxl
import openpyxl.xml
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.payment import ktb, xlsx
from services.payment.ktb import DETAIL, HEADER, FileRejected, FileSettings, Layout, LayoutError, TransferLine
from shared.banks import BANKS

pytestmark = [pytest.mark.unit]

SPEC = FileSettings(company_id="TESTCO0001", debit_account="1234567890", sender_name="WELFARE FUND TEST")
DATE = dt.date(2026, 1, 15)
P1 = TransferLine("P1", "P1", "006", None, "987-6-54321-0", "นางสมศรี ใจดี", Decimal("600.00"), "WF2601-000001")
P2 = TransferLine(
    "P2",
    "P2",
    "004",
    None,
    "111-2-22333-4",
    "นายสมชาย รักไทย",
    Decimal("1000.00"),
    "WF2601-000002",
    mobile="0812345678",
)
P3 = TransferLine(
    "P3", "P3", "034", "1234", "020012345678", "MR JOHN SMITH", Decimal("800.50"), "WF2601-000003"
)
FILE_A_SHA256 = "fe080ab10467f45dd0f72c2e43409eca23b9e698a0863fee906177634dd72e09"
FILE_B_SHA256 = "5ec83b7502405181396df007c2a9469cd45fd0bc7e63e2d5ba1c1ee15fb66bbe"


class TestSpecVectors:
    """§10.1–10.2: our writer reproduces the spec's files byte for byte."""

    def test_file_a_direct(self) -> None:
        built = ktb.build_files([P1], group="ktb", settings=SPEC, effective_date=DATE)
        assert len(built.txt) == 1000
        assert hashlib.sha256(built.txt).hexdigest() == FILE_A_SHA256
        assert built.txt_sha256 == FILE_A_SHA256

    def test_file_b_standard(self) -> None:
        built = ktb.build_files([P2, P3], group="other", settings=SPEC, effective_date=DATE)
        assert len(built.txt) == 1500
        assert built.txt_sha256 == FILE_B_SHA256
        header = built.txt[:498].decode("cp874")
        assert header[19:38] == "0000000000000180050"  # 1,800.50 THB in satang

    def test_thai_name_is_13_cp874_bytes_then_87_spaces(self) -> None:
        built = ktb.build_files([P1], group="ktb", settings=SPEC, effective_date=DATE)
        detail = built.txt[500:998]
        assert detail[92:105] == bytes.fromhex("b9d2a7cac1c8c3d520e3a8b4d5")
        assert detail[105:192] == b" " * 87

    def test_lines_of_the_spec_field_by_field(self) -> None:
        built = ktb.build_files([P2, P3], group="other", settings=SPEC, effective_date=DATE)
        records = built.txt.decode("cp874").split("\r\n")
        assert records[-1] == ""  # CR LF after every record, nothing after the last one
        p3 = DETAIL.parse(records[2])
        assert (p3["recv_bank"], p3["recv_branch"], p3["recv_acct"]) == ("034", "1234", "20012345678")
        assert (p3["send_branch"], p3["send_acct"], p3["service_type"]) == ("0123", "01234567890", "59")
        assert (p3["amount"], p3["ref2"], p3["running_no"], p3["status"]) == (
            "00000000000080050",
            "WF2601-000003",
            "000002",
            "09",
        )
        assert DETAIL.parse(records[1])["mobile"] == "0812345678"
        assert HEADER.parse(records[0])["company_id"] == "TESTCO0001"

    def test_excel_register_of_the_same_lines(self) -> None:
        """§10.3: text cells for codes, accounts and refs (leading zeros kept), amounts 0.00."""
        built = ktb.build_files([P2, P3], group="other", settings=SPEC, effective_date=DATE)
        sheet = openpyxl.load_workbook(io.BytesIO(built.xlsx)).active
        rows = [list(row) for row in sheet.iter_rows()]
        assert [c.value for c in rows[0]] == [str(i) for i in range(1, 10)]
        assert [c.value for c in rows[1]] == list(ktb.XLSX_HEADINGS)
        baac = rows[3]
        assert [c.value for c in baac[:3]] == ["034", "020012345678", "MR JOHN SMITH"]
        assert all(c.data_type == "s" and c.number_format == "@" for c in baac[:3])
        assert baac[3].data_type == "n"
        assert baac[3].number_format == "0.00"
        assert Decimal(str(baac[3].value)) == Decimal("800.50")
        assert baac[6].value == "WF2601-000003"
        assert rows[2][8].value == "0812345678"
        assert rows[2][8].data_type == "s"


def test_direct_and_standard_groups_never_mix() -> None:
    with pytest.raises(FileRejected) as caught:
        ktb.build_files([P1, P2], group="ktb", settings=SPEC, effective_date=DATE)
    assert [(p.key, p.code) for p in caught.value.problems] == [("P2", "wrong_group")]


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"receiver_name": "O’Brien"}, "account_name", "unsupported_character"),  # typographic quote
        ({"receiver_name": "นาย\u00a0สมชาย"}, "account_name", "unsupported_character"),  # no-break space
        ({"receiver_name": "😀 smile"}, "account_name", "unsupported_character"),
        ({"receiver_name": "ก" * 101}, "account_name", "too_long"),
        ({"receiver_name": "   "}, "account_name", "required"),
        ({"account_no": "12345"}, "account_no", "invalid_account_length"),
        (
            {"bank_code": "034", "account_no": "020012345678", "branch_code": None},
            "branch_code",
            "branch_code_required",
        ),
        ({"bank_code": "065"}, "bank_code", "inactive_bank"),
        ({"amount": Decimal("2000000.00")}, "amount", "amount_over_standard_limit"),
        ({"amount": Decimal("10.005")}, "amount", "invalid_amount"),
        ({"amount": Decimal("0")}, "amount", "amount_not_positive"),
        ({"ref2": "R" * 19}, "ref2", "invalid_ref2"),
        ({"ref2": "อ้างอิง"}, "ref2", "invalid_ref2"),
        ({"mobile": "08-12"}, "phone", "invalid_mobile"),
        ({"email": "not-an-email"}, "email", "invalid_email"),
    ],
)
def test_a_line_breaking_a_rule_is_reported_and_no_file_is_made(
    change: dict[str, object], field: str, code: str
) -> None:
    line = replace(P2, **change)
    with pytest.raises(FileRejected) as caught:
        ktb.build_files([line, P3], group="other", settings=SPEC, effective_date=DATE)
    problems = caught.value.problems
    assert [(p.key, p.field, p.code) for p in problems] == [("P2", field, code)]
    assert problems[0].message  # Thai, for the finance officer


def test_standard_limit_is_strictly_below_two_million() -> None:
    just_below = replace(P2, amount=Decimal("1999999.99"))
    built = ktb.build_files([just_below], group="other", settings=SPEC, effective_date=DATE)
    assert built.total_satang == 199999999


def test_all_problems_of_all_lines_are_listed() -> None:
    bad = [replace(P2, key=i, receiver_name="“x”", ref2=f"R{i}") for i in range(3)]
    with pytest.raises(FileRejected) as caught:
        ktb.build_files(bad, group="other", settings=SPEC, effective_date=DATE)
    assert [p.key for p in caught.value.problems] == [0, 1, 2]


def test_duplicate_ref2_within_a_file_is_refused() -> None:
    twin = replace(P3, ref2=P2.ref2)
    with pytest.raises(FileRejected) as caught:
        ktb.build_files([P2, twin], group="other", settings=SPEC, effective_date=DATE)
    assert "duplicate_ref2" in {p.code for p in caught.value.problems}


def test_empty_file_is_never_produced() -> None:
    with pytest.raises(FileRejected) as caught:
        ktb.build_files([], group="other", settings=SPEC, effective_date=DATE)
    assert caught.value.problems[0].code == "empty_file"


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"debit_account": "12345"}, "KTB_DEBIT_ACCOUNT"),
        ({"company_id": "X" * 17}, "KTB_COMPANY_ID"),
        ({"service_type_standard": "5"}, "KTB_SERVICE_TYPE_STANDARD"),
        ({"sender_name": "“quoted”"}, "KTB_SENDER_NAME"),
    ],
)
def test_bad_settings_are_reported(change: dict[str, str], fragment: str) -> None:
    settings_ = replace(SPEC, **change)
    assert any(fragment in p for p in settings_.problems())


class TestLayout:
    """The generic writer/reader used by both the file writer and the echo parser."""

    def test_layouts_are_498_characters_with_contiguous_fields(self) -> None:
        for layout in (HEADER, DETAIL):
            assert layout.length == 498
            assert sum(f.width for f in layout.fields) == 498

    def test_a_layout_with_a_gap_is_refused(self) -> None:
        with pytest.raises(ValueError, match="starts at"):
            Layout("bad", 4, [ktb.Field("a", 1, 2, True), ktb.Field("b", 4, 1, True)])

    def test_value_wider_than_its_field_is_an_error_not_a_truncation(self) -> None:
        with pytest.raises(LayoutError) as caught:
            DETAIL.render({"recv_bank": "0044", "receiver_name": "x"})
        assert caught.value.field == "recv_bank"
        writer = DETAIL.compile(("receiver_name",), {})
        with pytest.raises(LayoutError) as caught:
            writer("ก" * 101)
        assert caught.value.field == "receiver_name"

    def test_numeric_field_refuses_thai_digits(self) -> None:
        with pytest.raises(LayoutError):
            DETAIL.render({"amount": "๑๒๓"})

    def test_parse_refuses_wrong_length_and_non_digits(self) -> None:
        record = DETAIL.render({"amount": "5", "running_no": "1"})
        with pytest.raises(LayoutError, match="ความยาว"):
            DETAIL.parse(record[:-1])
        broken = record[:57] + "X" + record[58:]
        with pytest.raises(LayoutError, match="amount"):
            DETAIL.parse(broken)


_thai_or_ascii = st.text(
    alphabet=st.sampled_from([chr(c) for c in range(0x20, 0x7F)] + [chr(c) for c in range(0x0E01, 0x0E3B)]),
    min_size=1,
    max_size=100,
).filter(lambda s: s.strip() == s and s.strip() != "")


@settings(max_examples=150, deadline=None)
@given(
    name=_thai_or_ascii,
    satang=st.integers(min_value=1, max_value=199_999_999),
    account=st.integers(min_value=0, max_value=9_999_999_999),
    bank=st.sampled_from(["002", "004", "011", "014", "025"]),
    mobile=st.one_of(st.none(), st.from_regex(r"0[0-9]{9}", fullmatch=True)),
    count=st.integers(min_value=1, max_value=4),
)
def test_write_then_read_gives_back_every_field(
    name: str, satang: int, account: int, bank: str, mobile: str | None, count: int
) -> None:
    amount = Decimal(satang).scaleb(-2)
    lines = [
        TransferLine(i, str(i), bank, None, f"{account:010d}", name, amount, f"REF-{i}", mobile=mobile)
        for i in range(count)
    ]
    built = ktb.build_files(lines, group="other", settings=SPEC, effective_date=DATE)
    records = built.txt.decode("cp874").split("\r\n")[:-1]
    assert all(len(r) == 498 and len(r.encode("cp874")) == 498 for r in records)
    header = HEADER.parse(records[0])
    assert int(header["total_txn"]) == count
    assert int(header["total_amount"]) == satang * count
    for i, record in enumerate(records[1:]):
        got = DETAIL.parse(record)
        assert got["receiver_name"] == name.rstrip(" ")
        assert int(got["amount"]) == satang
        assert got["recv_acct"] == f"{account:011d}"
        assert got["ref2"] == f"REF-{i}"
        assert int(got["running_no"]) == i + 1
        assert got["mobile"] == (mobile or "")
    assert (
        ktb.build_files(lines, group="other", settings=SPEC, effective_date=DATE).txt == built.txt
    )  # deterministic


@settings(max_examples=60, deadline=None)
@given(text=st.text(min_size=1, max_size=40).filter(lambda s: "\x00" not in s))
def test_excel_text_cells_round_trip_and_never_become_formulas(text: str) -> None:
    cleaned = "".join(ch for ch in text if ch.isprintable())
    if not cleaned:
        return
    data = xlsx.write_table(
        [[(cleaned, xlsx.Style.TEXT), (Decimal("-12.50"), xlsx.Style.AMOUNT)]], sheet_name="t"
    )
    sheet = openpyxl.load_workbook(io.BytesIO(data), data_only=False).active
    cell, amount = sheet["A1"], sheet["B1"]
    assert cell.data_type == "s"  # never "f"
    assert cell.value == cleaned
    assert amount.data_type == "n"  # a negative number stays a number (reliability S7)


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x")', "+1+1", "-2", "@SUM(A1)", " =1"])
def test_formula_like_names_are_kept_as_quoted_text(name: str) -> None:
    line = replace(P2, receiver_name=name.strip())
    built = ktb.build_files([line], group="other", settings=SPEC, effective_date=DATE)
    sheet = openpyxl.load_workbook(io.BytesIO(built.xlsx), data_only=False).active
    cell = sheet["C3"]
    assert cell.data_type == "s"
    assert cell.value == name.strip()
    assert cell.quotePrefix is True


def test_excel_register_is_reproducible_and_small() -> None:
    a = ktb.build_files([P2, P3], group="other", settings=SPEC, effective_date=DATE)
    b = ktb.build_files([P2, P3], group="other", settings=SPEC, effective_date=DATE)
    assert a.xlsx == b.xlsx
    names = zipfile.ZipFile(io.BytesIO(a.xlsx)).namelist()
    assert "[Content_Types].xml" in names
    assert "xl/worksheets/sheet1.xml" in names


def test_openpyxl_reads_with_defusedxml() -> None:
    assert openpyxl.xml.DEFUSEDXML is True  # reliability S6d: XML bombs inside xlsx are refused


# --- the fast paths give what the general ones give (tests/perf/bench_payment.py) --------------------
_BANK_CODES = sorted({b.code for b in BANKS} | {"999", "6", "00a"})
_ACCOUNTS = st.one_of(
    st.text(alphabet="0123456789", min_size=0, max_size=16),
    st.text(alphabet="0123456789 -.", min_size=1, max_size=16),
    st.text(max_size=14),
)
_NAMES = st.one_of(
    st.sampled_from(
        ["นางสมศรี ใจดี", "MR JOHN SMITH", " นาย ก ", "=SUM(A1)", "A & B", "x" * 100, "y" * 101, ""]
    ),
    st.text(max_size=110),
)
_AMOUNTS = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from([Decimal("0"), Decimal("-1"), Decimal("1.500"), Decimal("1E+3"), Decimal("1999999.99")]),
    st.sampled_from([Decimal("2000000.00"), Decimal("1000000000000000"), Decimal("0.001")]),
)
_LINES = st.builds(
    TransferLine,
    key=st.integers(),
    label=st.just("L"),
    bank_code=st.sampled_from(_BANK_CODES),
    branch_code=st.one_of(st.none(), st.just(""), st.sampled_from(["0000", "1234", "12a4"])),
    account_no=_ACCOUNTS,
    receiver_name=_NAMES,
    amount=_AMOUNTS,
    ref2=st.one_of(st.sampled_from(["WF000001-000001", "-x", " x", "x" * 19]), st.text(max_size=20)),
    email=st.one_of(st.none(), st.sampled_from(["", "a@b.co", " a@b.co ", "bad", "a" * 40 + "@b.co"])),
    mobile=st.one_of(st.none(), st.sampled_from(["", "0812345678", "081-234-5678", "08123", "๐๘๑"])),
)
_VALID = TransferLine(
    1, "L", "004", None, "1112223334", "นายสมชาย รักไทย", Decimal("1000.00"), "WF000001-000001"
)
_ONE_CHANGE = st.one_of(
    st.builds(lambda v: replace(_VALID, bank_code=v), st.sampled_from([*_BANK_CODES, "006"])),
    st.builds(lambda v: replace(_VALID, branch_code=v), st.sampled_from([None, "", "0000", "1234"])),
    st.builds(lambda v: replace(_VALID, account_no=v), _ACCOUNTS),
    st.builds(lambda v: replace(_VALID, receiver_name=v), _NAMES),
    st.builds(lambda v: replace(_VALID, amount=v), _AMOUNTS),
    st.builds(lambda v: replace(_VALID, email=v), st.sampled_from([None, "", "a@b.co", " a@b.co", "x"])),
    st.builds(lambda v: replace(_VALID, mobile=v), st.sampled_from([None, "", "081-234-5678", "08 1", "๐"])),
)


def test_the_usual_line_takes_the_fast_path() -> None:
    line = replace(_VALID, mobile="081-234-5678")
    fast = ktb._fast_prepare(line, 1, False, SPEC.standard_line_limit, True)
    assert fast is not None
    assert fast == ktb._prepare_one(line, 1, "other", SPEC)
    assert (fast.recv_branch, fast.recv_acct, fast.mobile, fast.satang) == (
        "0000",
        "01112223334",
        "0812345678",
        100000,
    )


@settings(max_examples=600, deadline=None)
@given(line=st.one_of(_LINES, _ONE_CHANGE), group=st.sampled_from(["ktb", "other"]))
def test_the_fast_line_check_agrees_with_the_general_one(line: TransferLine, group: str) -> None:
    general = ktb._prepare_one(line, 1, group, SPEC)
    is_ktb = group == "ktb"
    limit = SPEC.direct_line_limit if is_ktb else SPEC.standard_line_limit
    fast = ktb._fast_prepare(line, 1, is_ktb, limit, not is_ktb)
    if fast is not None:  # when the fast path answers, it is exactly the general answer
        assert fast == general
    prepared, problems = ktb.prepare_lines([line], group=group, settings=SPEC)
    if isinstance(general, list):
        assert (prepared, problems) == ([], general)
    else:
        assert (prepared, problems) == ([general], [])


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(st.one_of(_LINES, _ONE_CHANGE), min_size=1, max_size=12))
def test_the_fast_writers_give_the_bytes_of_the_record_by_record_writers(lines: list[TransferLine]) -> None:
    prepared, _ = ktb.prepare_lines(lines, group="other", settings=SPEC)
    if not prepared:
        return
    txt = ktb.write_txt(prepared, group="other", settings=SPEC, effective_date=DATE)
    writer = DETAIL.compile(
        ktb._VARYING,
        {
            "send_branch": "0123",
            "send_acct": "01234567890",
            "effective_date": "15012026",
            "service_type": "59",
            "sender_name": "WELFARE FUND TEST",
        },
    )
    one_by_one = [
        writer(
            p.bank_code,
            p.recv_branch,
            p.recv_acct,
            str(p.satang),
            p.receiver_name,
            p.ref2,
            str(i),
            p.email,
            p.mobile,
        )
        for i, p in enumerate(prepared, start=1)
    ]
    assert txt.decode("cp874").split("\r\n")[1:-1] == one_by_one
    fast = ktb.write_xlsx(prepared, group="other", settings=SPEC, effective_date=DATE)
    with mock.patch.object(ktb, "_XLSX_RISKY_FIRST", re.compile(".|^")):  # every row the general way
        general = ktb.write_xlsx(prepared, group="other", settings=SPEC, effective_date=DATE)
    assert fast == general


def test_the_record_writer_refuses_in_bulk_what_it_refuses_one_by_one() -> None:
    writer = DETAIL.compile(("recv_bank", "receiver_name"), {})
    assert writer.many([("004", "ก"), ("014", "ข")]) is not None
    assert writer.many([("004", "ก"), ("๐๐4", "ข")]) is None  # Thai digits in a numeric field
    assert writer.many([("004", "ก" * 101)]) is None  # wider than the field
    assert writer.many([("0044", "ก")]) is None
