"""The bank's result report (spec §8.2): file checks, the three shapes, bad input."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.payment import ktb, reports
from services.payment.reports import FAILED, REVERSED, SUCCESS, UNKNOWN, ReportError, ReportLimits

pytestmark = [pytest.mark.unit]
LIMITS = ReportLimits()
SPEC = ktb.FileSettings(company_id="TESTCO0001", debit_account="1234567890", sender_name="WELFARE FUND TEST")

#: §10.5, verbatim.
EXAMPLE_10_5 = (
    "batch_id,ref2,running_no,bank_code,account_no,receiver_name,amount,status,"
    "reason_code,reason_text,value_date,bank_txn_ref\n"
    """B2601-STD,WF2601-000002,1,004,1112223334,นายสมชาย รักไทย,1000.00,SUCCESS,,,2026-01-15,
B2601-STD,WF2601-000003,2,034,20012345678,MR JOHN SMITH,800.50,FAILED,,บัญชีปิดแล้ว,2026-01-15,
"""
)


def parse(data: bytes | str, name: str = "result.csv", limits: ReportLimits = LIMITS) -> reports.ParsedReport:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return reports.parse_report(raw, name, limits)


def rejected(data: bytes | str, name: str = "result.csv", limits: ReportLimits = LIMITS) -> ReportError:
    with pytest.raises(ReportError) as caught:
        parse(data, name, limits)
    return caught.value


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def test_normalised_csv_of_the_spec_example() -> None:
    report = parse(EXAMPLE_10_5)
    assert report.shape == "normalised_csv"
    p2, p3 = report.records
    assert (p2.ref2, p2.running_no, p2.bank_code, p2.account_no, p2.amount, p2.status) == (
        "WF2601-000002",
        1,
        "004",
        "1112223334",
        Decimal("1000.00"),
        SUCCESS,
    )
    assert (p3.status, p3.reason_text, p3.satang, p3.line) == (FAILED, "บัญชีปิดแล้ว", 80050, 3)


def test_normalised_csv_with_bom_and_cp874() -> None:
    assert parse("\ufeff" + EXAMPLE_10_5).records[0].ref2 == "WF2601-000002"
    assert parse(EXAMPLE_10_5.encode("cp874")).records[1].reason_text == "บัญชีปิดแล้ว"


def test_ktb_report_with_title_rows_thai_headers_and_totals() -> None:
    text = (
        "รายงานผลการโอนเงิน KTB Corporate Online\n"
        "Company ID: TESTCO0001,,,,,\n"
        "\n"
        "ลำดับ,เลขที่อ้างอิง,รหัสธนาคาร,เลขที่บัญชี,ชื่อบัญชี,จำนวนเงิน,ผลการโอน,สาเหตุ\n"
        "1,WF2601-000002,004,111-2-22333-4,นายสมชาย,1000.00,โอนสำเร็จ,\n"
        "2,WF2601-000003,034,20012345678,MR JOHN,800.50,ไม่สำเร็จ,บัญชีปิด\n"
        ",,,,รวม,1800.50,,\n"
        "พิมพ์เมื่อ 15/01/2569,,,,,,,\n"
    )
    report = parse(text)
    assert report.shape == "ktb_report"
    assert [(r.line, r.ref2, r.account_no, r.status) for r in report.records] == [
        (5, "WF2601-000002", "1112223334", SUCCESS),
        (6, "WF2601-000003", "20012345678", FAILED),
    ]
    assert report.stated_total_satang == 180050


def test_ktb_report_as_xlsx_with_english_headers_and_number_cells() -> None:
    data = xlsx_bytes(
        [
            ["Transfer Result Report"],
            [],
            [
                "Reference No./ DDA Ref 2",
                "Receiving Bank Code",
                "Receiving A/C No.",
                "Transfer Amount",
                "Status",
            ],
            ["WF2601-000002", "004", "1112223334", 1000, "Success"],
            ["WF2601-000003", 34, 20012345678, 800.5, "Rejected"],
            ["WF2601-000004", "006", "9876543210", 600.0, "09"],
        ]
    )
    report = parse(data, "report.xlsx")
    assert report.kind == "xlsx"
    assert [(r.line, r.bank_code, r.account_no, r.amount, r.status) for r in report.records] == [
        (4, "004", "1112223334", Decimal("1000.00"), SUCCESS),
        (5, "034", "20012345678", Decimal("800.50"), FAILED),
        (6, "006", "9876543210", Decimal("600.00"), UNKNOWN),
    ]


def test_fixed_width_echo_is_read_with_the_writer_layout() -> None:
    lines = [
        ktb.TransferLine("a", "a", "004", None, "1112223334", "นายสมชาย รักไทย", Decimal("1000.00"), "WF1-1"),
        ktb.TransferLine(
            "b", "b", "034", "1234", "020012345678", "MR JOHN SMITH", Decimal("800.50"), "WF1-2"
        ),
    ]
    built = ktb.build_files(lines, group="other", settings=SPEC, effective_date=dt.date(2026, 1, 15))
    report = parse(built.txt, "echo.txt")
    assert report.shape == "fixed_width"
    assert [(r.ref2, r.running_no, r.satang, r.status, r.raw_status) for r in report.records] == [
        ("WF1-1", 1, 100000, UNKNOWN, "09"),  # the echo's status codes are not public: review
        ("WF1-2", 2, 80050, UNKNOWN, "09"),
    ]
    known = ReportLimits(echo_success_codes=frozenset({"09"}))
    assert {r.status for r in parse(built.txt, "echo.txt", known).records} == {SUCCESS}


def test_truncated_fixed_width_echo_is_rejected() -> None:
    lines = [
        ktb.TransferLine(i, str(i), "004", None, f"11122233{i:02d}", "NAME", Decimal("10.00"), f"R{i}")
        for i in range(3)
    ]
    built = ktb.build_files(lines, group="other", settings=SPEC, effective_date=dt.date(2026, 1, 15))
    error = rejected(built.txt[:-500], "echo.txt")  # the last detail is missing
    assert error.code == "totals_mismatch"
    error = rejected(built.txt[:-250], "echo.txt")  # cut in the middle of a record
    assert error.code == "invalid_lines"
    assert error.errors[0]["line"] == 4
    assert "498" in str(error.errors[0]["message"])


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ('ref2,account_no,amount,status\nR1,1112223334,"1,000.00",SUCCESS\n', 2, "จุลภาค"),
        ("ref2,account_no,amount,status\nR1,1112223334,1,000.00,SUCCESS\n", 2, "คอลัมน์"),
        ("ref2,account_no,amount,status\nR1,1112223334,100.505,SUCCESS\n", 2, "100.505"),
        ("ref2,account_no,amount,status\nR1,๑๑๑๒๒๒๓๓๓๔,100.00,SUCCESS\n", 2, "เลขที่บัญชี"),
        ("ref2,account_no,amount,status\nR1,1112223334,,SUCCESS\n", 2, "จำนวนเงิน"),
        ("ref2,account_no,amount,status\nR1,,100.00,SUCCESS\n", 2, "ไม่มีเลขที่บัญชี"),
        ("ref2,running_no,account_no,amount,status\n,x,1112223334,100.00,SUCCESS\n", 2, "ลำดับ"),
        (
            "ref2,account_no,amount,status\nR1,1112223334,100.00,SUCCESS\nR2,1112223335,-5.00,FAILED\n",
            3,
            "R2",
        ),
        ("ref2,account_no,amount,status,reason\nR1,1112223334,100.00\n", 2, "น้อยกว่าหัวตาราง"),
    ],
)
def test_a_malformed_line_rejects_the_whole_file_naming_the_line(text: str, line: int, fragment: str) -> None:
    if fragment == "R2":
        fragment = "จำนวนเงิน"
    error = rejected(text)
    assert error.code == "invalid_lines"
    assert error.errors[0]["line"] == line
    assert fragment in str(error.errors[0]["message"])
    assert f"บรรทัดที่ {line}" in str(error.errors[0]["message"])


def test_missing_required_columns() -> None:
    error = rejected("ref2,account_no,status\nR1,1112223334,SUCCESS\n")
    assert error.code == "no_header"
    error = rejected("receiver_name,account_no,amount,status\nX,1112223334,10.00,SUCCESS\n")
    assert error.code == "missing_columns"


def test_stated_total_that_does_not_add_up_is_rejected() -> None:
    text = "ref2,account_no,amount,status\nR1,1112223334,100.00,SUCCESS\nTotal,,150.00,\n"
    assert rejected(text).code == "totals_mismatch"


@pytest.mark.parametrize(
    ("data", "name", "status"),
    [
        (b"%PDF-1.7\n%\xe2\xe3", "result.csv", 415),
        (b"MZ\x90\x00\x03", "result.txt", 415),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "result.xlsx", 415),
        (b"ref2,account_no,amount,status\n", "result.pdf", 415),
        (b"ref2,account_no\x00,amount", "result.csv", 415),
        (b"\x81\x82\x83 not text", "result.csv", 415),
        (b"", "result.csv", 400),
        (b"ref2,account_no,amount,status\n", "result.xlsx", 415),
    ],
)
def test_wrong_file_types_are_refused(data: bytes, name: str, status: int) -> None:
    with pytest.raises(ReportError) as caught:
        reports.sniff(data, name, LIMITS)
    assert caught.value.status == status
    assert caught.value.message


def test_file_over_the_size_limit_is_413() -> None:
    with pytest.raises(ReportError) as caught:
        reports.sniff(b"x" * 2048, "r.csv", ReportLimits(max_bytes=1024))
    assert caught.value.status == 413


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


class TestZipBombs:
    """reliability S6c: checked on the central directory before openpyxl sees the file."""

    def base(self) -> dict[str, bytes]:
        return {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}

    def test_highly_compressed_entry_is_refused(self) -> None:
        data = _zip({**self.base(), "xl/worksheets/sheet1.xml": b"\0" * (8 * 1024 * 1024)})
        assert len(data) < 100_000  # an 8 MB sheet in a few KB
        with pytest.raises(ReportError) as caught:
            reports.sniff(data, "bomb.xlsx", LIMITS)
        assert (caught.value.status, caught.value.code) == (413, "zip_bomb")

    def test_too_much_uncompressed_data_is_refused(self) -> None:
        import os

        entries = {**self.base(), **{f"xl/media/{i}.bin": os.urandom(300_000) for i in range(4)}}
        small = ReportLimits(xlsx_max_uncompressed=1_000_000)
        with pytest.raises(ReportError) as caught:
            reports.sniff(_zip(entries), "big.xlsx", small)
        assert caught.value.status == 413

    def test_too_many_entries_and_unsafe_names_are_refused(self) -> None:
        many = {**self.base(), **{f"xl/x{i}.xml": b"<a/>" for i in range(1001)}}
        assert reports.sniff.__name__  # for readability of the assertions below
        with pytest.raises(ReportError) as caught:
            reports.sniff(_zip(many), "many.xlsx", LIMITS)
        assert caught.value.status == 415
        with pytest.raises(ReportError) as caught:
            reports.sniff(_zip({**self.base(), "../../etc/passwd": b"x"}), "evil.xlsx", LIMITS)
        assert caught.value.status == 415

    def test_a_zip_that_is_not_a_workbook_is_refused(self) -> None:
        with pytest.raises(ReportError) as caught:
            reports.sniff(
                _zip({"word/document.xml": b"<w/>", "[Content_Types].xml": b"<T/>"}), "x.xlsx", LIMITS
            )
        assert caught.value.status == 415


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("SUCCESS", SUCCESS),
        ("  Completed ", SUCCESS),
        ("โอนสำเร็จ", SUCCESS),
        ("ไม่สำเร็จ", FAILED),
        ("Rejected", FAILED),
        ("คืนเงิน", FAILED),
        ("09", UNKNOWN),
        ("", UNKNOWN),
        ("pending", UNKNOWN),
        ("success?", UNKNOWN),
        ("REVERSED", REVERSED),
        (" Reversal ", REVERSED),
        ("กลับรายการ", REVERSED),
        ("return", FAILED),  # a §8.2 failure word, unless configured as a reversal word
    ],
)
def test_only_explicit_tokens_count_as_success_or_failure(raw: str, expected: str) -> None:
    assert reports.normalise_status(raw) == expected


def test_reversal_words_are_configurable_and_win_over_the_built_in_failure_words() -> None:
    limits = ReportLimits(reversal_tokens=frozenset({"return", "โอนคืน"}))
    assert reports.normalise_status("RETURN", limits) == REVERSED
    assert reports.normalise_status("โอนคืน", limits) == REVERSED
    assert reports.normalise_status("คืนเงิน", limits) == FAILED
    assert reports.vocabulary_problems(limits) == []


@pytest.mark.parametrize(
    "limits",
    [
        ReportLimits(reversal_tokens=frozenset({"success"})),
        ReportLimits(failed_tokens=frozenset({"x"}), reversal_tokens=frozenset({"x"})),
        ReportLimits(success_tokens=frozenset({"fail"})),
        ReportLimits(echo_success_codes=frozenset({"09"}), echo_reversed_codes=frozenset({"09"})),
    ],
)
def test_a_word_with_two_meanings_is_refused(limits: ReportLimits) -> None:
    assert reports.vocabulary_problems(limits)


def test_the_fixed_width_echo_reads_reversal_codes_when_configured() -> None:
    line = ktb.TransferLine(
        "a", "a", "004", None, "1112223334", "นายสมชาย รักไทย", Decimal("1000.00"), "WF1-1"
    )
    built = ktb.build_files([line], group="other", settings=SPEC, effective_date=dt.date(2026, 1, 15))
    known = ReportLimits(echo_reversed_codes=frozenset({"09"}))
    assert [r.status for r in parse(built.txt, "echo.txt", known).records] == [REVERSED]


def test_content_key_ignores_line_endings_trailing_spaces_and_encoding() -> None:
    a = reports.content_key(EXAMPLE_10_5.encode("utf-8"), "text")
    b = reports.content_key(EXAMPLE_10_5.replace("\n", "\r\n").encode("cp874"), "text")
    c = reports.content_key(("\ufeff" + EXAMPLE_10_5.replace("\n", "  \n") + "\n\n").encode("utf-8"), "text")
    assert a == b == c
    assert a != reports.content_key(EXAMPLE_10_5.replace("800.50", "800.51").encode(), "text")


@settings(max_examples=80, deadline=None)
@given(cut=st.integers(min_value=1, max_value=len(EXAMPLE_10_5.encode()) - 1))
def test_any_truncation_is_rejected_or_parses_fewer_complete_lines(cut: int) -> None:
    """A cut file never yields a partial record: either rejected, or only whole lines survive."""
    data = EXAMPLE_10_5.encode()[:cut]
    try:
        report = reports.parse_report(data, "r.csv", LIMITS)
    except (ReportError, UnicodeDecodeError):
        return
    full = {r.ref2: r for r in parse(EXAMPLE_10_5).records}
    for record in report.records:
        # only a cut inside the optional trailing columns can still parse; the money facts are whole
        assert record.amount == full[record.ref2].amount
        assert record.account_no == full[record.ref2].account_no
        assert record.status == full[record.ref2].status
