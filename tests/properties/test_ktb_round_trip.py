"""Property tests of the KTB fixed-width writer and reader (reliability §6.3, P3), public functions only.

tests/payment/unit/test_ktb.py already checks ``build_files`` → ``DETAIL.parse`` for the other-bank
group.  Here: (1) the generic layout engine on every field of both record types — whatever fits
comes back unchanged, whatever does not fit is refused, never cut; (2) the compiled fast writer
gives the same record as the checked one; (3) a whole file of either group, written by
``write_txt`` and read back by the result-report reader (``reports.parse_report``, which reads the
bank's fixed-width echo with the same layouts), gives back every line and the header's totals.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.payment import ktb, reports
from services.payment.ktb import DETAIL, HEADER, FileSettings, Layout, LayoutError, TransferLine

pytestmark = [pytest.mark.unit]
SETTINGS = FileSettings(company_id="TESTCO0001", debit_account="1234567890", sender_name="WELFARE FUND TEST")
DATE = dt.date(2026, 1, 15)
KTB_TEXT = [chr(c) for c in range(0x20, 0x7F)] + [chr(c) for c in range(0x0E01, 0x0E3B)] + ["฿", "ๆ", "๙"]


@st.composite
def record_values(draw: st.DrawFn, layout: Layout) -> dict[str, str]:
    """Values for some fields of a layout, each fitting its width (text without trailing spaces)."""
    values = {}
    for f in layout.fields:
        if not draw(st.booleans()):
            continue
        if f.numeric:
            values[f.name] = draw(st.text(alphabet="0123456789", min_size=1, max_size=f.width))
        else:
            values[f.name] = draw(st.text(alphabet=KTB_TEXT, max_size=f.width)).rstrip(" ")
    return values


def expected(layout: Layout, values: dict[str, str]) -> dict[str, str]:
    out = {}
    for f in layout.fields:
        value = values.get(f.name, f.default)
        out[f.name] = value.rjust(f.width, "0") if f.numeric else value.rstrip(" ")
    return out


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_every_field_that_fits_comes_back_unchanged(data: st.DataObject) -> None:
    layout = data.draw(st.sampled_from([HEADER, DETAIL]))
    values = data.draw(record_values(layout))
    record = layout.render(values)
    assert len(record) == layout.length == 498
    assert len(record.encode(ktb.ENCODING)) == 498  # one byte per character in cp874
    assert layout.parse(record) == expected(layout, values)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_a_value_that_does_not_fit_is_refused_never_cut(data: st.DataObject) -> None:
    layout = data.draw(st.sampled_from([HEADER, DETAIL]))
    target = data.draw(st.sampled_from(layout.fields))
    if target.numeric:
        bad = data.draw(
            st.one_of(
                st.text(alphabet="0123456789", min_size=target.width + 1, max_size=target.width + 5),
                st.text(alphabet="0123456789", max_size=target.width - 1).map(lambda s: s + "x"),
                st.just("๑" * min(target.width, 3)),  # Thai digits are not digits here (P12)
            )
        )
    else:
        bad = data.draw(st.text(alphabet="abc", min_size=target.width + 1, max_size=target.width + 5))
    with pytest.raises(LayoutError) as info:
        layout.render({target.name: bad})
    assert info.value.field == target.name


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_the_compiled_writer_writes_what_the_checked_writer_writes(data: st.DataObject) -> None:
    values = data.draw(record_values(DETAIL))
    varying = sorted(values)
    constants = {}
    writer = DETAIL.compile(varying, constants)
    assert writer(*(values[name] for name in varying)) == DETAIL.render(values)


names = st.text(alphabet=KTB_TEXT, min_size=1, max_size=100).filter(lambda s: s.strip() == s != "")


@st.composite
def transfer_lines(draw: st.DrawFn, group: str) -> list[TransferLine]:
    count = draw(st.integers(min_value=1, max_value=12))
    lines = []
    for i in range(count):
        bank = "006" if group == "ktb" else draw(st.sampled_from(["002", "004", "011", "014", "025"]))
        satang = draw(st.integers(min_value=1, max_value=199_999_999))
        lines.append(
            TransferLine(
                key=i,
                label=f"Case-{i}",
                bank_code=bank,
                branch_code=None,
                account_no=draw(st.from_regex(r"[0-9]{10}", fullmatch=True)),
                receiver_name=draw(names),
                amount=Decimal(satang).scaleb(-2),
                ref2=draw(st.from_regex(r"[A-Z0-9]{4,12}", fullmatch=True)) + f"-{i}",
                email=draw(st.one_of(st.none(), st.just("a.b@example.com"))),
                mobile=draw(st.one_of(st.none(), st.from_regex(r"0[0-9]{9}", fullmatch=True))),
            )
        )
    return lines


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_a_written_file_read_back_gives_every_line_and_the_totals(data: st.DataObject) -> None:
    group = data.draw(st.sampled_from(ktb.GROUPS))
    lines = data.draw(transfer_lines(group))
    prepared, problems = ktb.prepare_lines(lines, group=group, settings=SETTINGS)
    assert problems == []
    txt = ktb.write_txt(prepared, group=group, settings=SETTINGS, effective_date=DATE)
    report = reports.parse_report(txt, "echo.txt", reports.ReportLimits())
    assert report.shape == "fixed_width"
    assert report.stated_count == len(lines)
    assert report.stated_total_satang == sum(p.satang for p in prepared)
    assert [r.running_no for r in report.records] == list(range(1, len(lines) + 1))
    for line, p, record in zip(lines, prepared, report.records, strict=True):
        assert record.ref2 == line.ref2
        assert record.bank_code == line.bank_code
        assert record.account_no == p.recv_acct
        assert record.receiver_name == line.receiver_name
        assert record.amount == line.amount
        assert record.satang == p.satang
    # and the header the reader trusts is the one the writer wrote
    header = HEADER.parse(txt.decode(ktb.ENCODING).split("\r\n", 1)[0])
    assert header["effective_date"] == DATE.strftime("%d%m%Y")
    assert header["company_id"] == SETTINGS.company_id


def test_a_cp874_echo_whose_thai_bytes_are_also_valid_utf8_is_read_back() -> None:
    """Found by the property above: a cp874 echo whose only Thai bytes also form valid UTF-8
    ("ยก" is C2 A1) was decoded as UTF-8 and refused; the record length now settles the encoding."""
    line = TransferLine(0, "Case-0", "006", None, "0000000000", "ยก", Decimal("0.01"), "REF-0")
    prepared, _ = ktb.prepare_lines([line], group="ktb", settings=SETTINGS)
    txt = ktb.write_txt(prepared, group="ktb", settings=SETTINGS, effective_date=DATE)
    report = reports.parse_report(txt, "echo.txt", reports.ReportLimits())
    assert report.records[0].receiver_name == "ยก"
