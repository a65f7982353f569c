"""Unit tests for shared.thai: national IDs, BE dates, fiscal years, baht text, formula guarding."""

from __future__ import annotations

import pickle
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import ValidationError
from shared.thai import (
    age_on,
    baht_text,
    be_year,
    excel_safe_text,
    find_thai_ids,
    fiscal_year,
    fiscal_year_bounds,
    format_baht,
    format_be_date,
    format_be_date_long,
    format_national_id,
    is_formula_like,
    is_valid_national_id,
    mask_national_id,
    national_id_check_digit,
    parse_be_date,
    parse_national_id,
)

pytestmark = pytest.mark.unit

VALID_IDS = ["1101700001237", "3101200345677", "1234567890121", "5555555555551", "1000000000009"]
ASCII_DIGITS = "0123456789"
THAI_DIGITS = "๐๑๒๓๔๕๖๗๘๙"
FULLWIDTH_DIGITS = "０１２３４５６７８９"
TO_THAI = str.maketrans(ASCII_DIGITS, THAI_DIGITS)
TO_FULLWIDTH = str.maketrans(ASCII_DIGITS, FULLWIDTH_DIGITS)


def _with_check_digit(first12: str) -> str:
    return first12 + str(national_id_check_digit(first12))


valid_ids = st.builds(
    lambda first, rest: _with_check_digit(first + rest),
    st.sampled_from("12345678"),
    st.text(alphabet=ASCII_DIGITS, min_size=11, max_size=11),
)


# --------------------------------------------------------------------------- national ID


@pytest.mark.parametrize("nid", VALID_IDS)
def test_parse_national_id_accepts_valid_ids(nid: str) -> None:
    assert parse_national_id(nid) == nid
    assert is_valid_national_id(nid)


def test_check_digit_matches_known_vectors() -> None:
    assert national_id_check_digit("110170000123") == 7
    assert national_id_check_digit("123456789012") == 1
    assert national_id_check_digit("100000000000") == 9


@pytest.mark.parametrize(
    "bad", ["12345678901", "1234567890123", "๑๒๓๔๕๖๗๘๙๐๑๒", "x23456789012", "12345678901 "]
)
def test_check_digit_rejects_non_12_ascii_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        national_id_check_digit(bad)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "110170000123",  # 12 digits
        "11017000012377",  # 14 digits
        "1-1017-00001-23-7",  # dashes
        "1 1017 00001 23 7",  # spaces
        " 1101700001237",
        "1101700001237 ",
        "1101700001237\n",
        "\ufeff1101700001237",  # BOM
        "1101700001237".translate(TO_THAI),  # Thai digits
        "1101700001237".translate(TO_FULLWIDTH),  # full-width digits
        "110170000123" + "๗",  # Thai digit only at the end (the isdigit() pitfall)
        "11017000O1237",  # letter O
        "+101700001237",
    ],
)
def test_parse_national_id_rejects_bad_format(bad: str) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_national_id(bad, field="citizen_id")
    assert exc.value.field == "citizen_id"
    assert exc.value.code == "invalid_national_id"
    assert exc.value.message == "เลขประจำตัวประชาชนต้องเป็นตัวเลขอารบิก 13 หลัก (0-9) ไม่มีช่องว่างหรือขีด"


@pytest.mark.parametrize("bad", [1101700001237, None, b"1101700001237", 1.101700001237e12, ["1101700001237"]])
def test_parse_national_id_rejects_non_str(bad: object) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_national_id(bad)
    assert exc.value.field == "national_id"
    assert not is_valid_national_id(bad)


@pytest.mark.parametrize("first", ["0", "9"])
def test_parse_national_id_rejects_first_digit_0_or_9(first: str) -> None:
    nid = _with_check_digit(first + "10170000123")
    with pytest.raises(ValidationError) as exc:
        parse_national_id(nid)
    assert "หลักแรก" in exc.value.message


def test_parse_national_id_rejects_wrong_check_digit() -> None:
    with pytest.raises(ValidationError) as exc:
        parse_national_id("1101700001238")
    assert exc.value.code == "invalid_national_id_checksum"
    assert exc.value.message == "เลขประจำตัวประชาชนไม่ถูกต้อง (เลขตรวจสอบไม่ตรง)"
    assert exc.value.field == "national_id"
    assert isinstance(exc.value, ValueError)


def test_regression_digit_3_is_not_covered_by_the_checksum() -> None:
    """Digit 3 has weight 11 = 0 (mod 11): changing it still passes, so a checksum is no proof of identity."""
    nid = "3101200345677"
    for digit in ASCII_DIGITS:
        changed = nid[:2] + digit + nid[3:]
        assert is_valid_national_id(changed), changed
    # Whereas changing any other single digit (except the weight-11 one) is caught.
    assert not is_valid_national_id("3201200345677")


@given(st.text())
def test_parse_national_id_total_on_arbitrary_unicode(text: str) -> None:
    try:
        result = parse_national_id(text)
    except ValidationError:
        return
    assert len(result) == 13
    assert all(ch in ASCII_DIGITS for ch in result)
    assert result == text


@given(
    st.text(
        alphabet=st.sampled_from(
            list(ASCII_DIGITS + THAI_DIGITS + FULLWIDTH_DIGITS + " -\ufeff\u00a0\u200b")
        ),
        min_size=11,
        max_size=16,
    )
)
def test_parse_national_id_total_on_digit_soup(text: str) -> None:
    try:
        result = parse_national_id(text)
    except ValidationError:
        return
    assert len(result) == 13
    assert all(ch in ASCII_DIGITS for ch in result)


@given(st.one_of(st.none(), st.integers(), st.floats(), st.binary(), st.lists(st.text()), st.decimals()))
def test_parse_national_id_total_on_non_str(value: object) -> None:
    with pytest.raises(ValidationError):
        parse_national_id(value)


@given(valid_ids)
def test_valid_ids_round_trip(nid: str) -> None:
    assert parse_national_id(nid) == nid
    assert parse_national_id(format_national_id(nid).replace("-", "")) == nid
    assert find_thai_ids(format_national_id(nid)) == [nid]
    assert find_thai_ids(f"id={nid}.") == [nid]
    assert find_thai_ids(nid.translate(TO_THAI)) == [nid]
    assert find_thai_ids(mask_national_id(nid)) == []


def test_format_and_mask_national_id() -> None:
    assert format_national_id("1101700001237") == "1-1017-00001-23-7"
    assert mask_national_id("1101700001237") == "x-xxxx-xxxx1-23-7"
    assert mask_national_id("1234567895678") == "x-xxxx-xxxx5-67-8"
    # Malformed input is masked completely rather than leaked.
    assert mask_national_id("110170000123") == "x-xxxx-xxxxx-xx-x"
    assert mask_national_id("๑๑๐๑๗๐๐๐๐๑๒๓๗") == "x-xxxx-xxxxx-xx-x"
    with pytest.raises(ValueError):
        format_national_id("1-1017-00001-23-7")


def test_find_thai_ids_in_text() -> None:
    text = (
        "ผู้ยื่นคำร้อง 1101700001237, คู่สมรส ๓-๑๐๑๒-๐๐๓๔๕-๖๗-๗ และ "
        "１ ２３４５ ６７８９０ １２ １ ; ผิด 1101700001238 ; ยาวเกิน 11017000012370 ; "
        "บัญชี 1234567890"
    )
    assert find_thai_ids(text) == ["1101700001237", "3101200345677", "1234567890121"]


def test_find_thai_ids_ignores_ids_starting_with_0_or_9() -> None:
    nid = _with_check_digit("010170000123")
    assert find_thai_ids(nid) == []


def test_find_thai_ids_empty() -> None:
    assert find_thai_ids("") == []
    assert find_thai_ids("x-xxxx-xxxx1-23-7") == []


# --------------------------------------------------------------------------- dates


def test_be_year() -> None:
    assert be_year(2015) == 2558
    assert be_year(2023) == 2566


def test_format_be_date() -> None:
    assert format_be_date(date(2015, 10, 2)) == "02/10/2558"
    assert format_be_date(datetime(2015, 10, 2, 23, 59)) == "02/10/2558"
    assert format_be_date(date(2024, 2, 29)) == "29/02/2567"


def test_format_be_date_long() -> None:
    assert format_be_date_long(date(2015, 10, 2)) == "2 ตุลาคม 2558"
    assert format_be_date_long(date(2022, 1, 31)) == "31 มกราคม 2565"
    assert format_be_date_long(date(2023, 12, 5)) == "5 ธันวาคม 2566"
    assert format_be_date_long(datetime(2023, 2, 14, 8, 0)) == "14 กุมภาพันธ์ 2566"


def test_parse_be_date() -> None:
    assert parse_be_date("02/10/2558") == date(2015, 10, 2)
    assert parse_be_date("2/1/2566") == date(2023, 1, 2)
    assert parse_be_date("29/02/2567") == date(2024, 2, 29)


@pytest.mark.parametrize(
    "bad",
    [
        "29/02/2566",  # not a leap year
        "31/04/2566",
        "00/01/2566",
        "01/13/2566",
        "02/10/2015",  # CE year typed by mistake
        "2558-10-02",
        "02/10/58",
        "๐๒/๑๐/๒๕๕๘",  # Thai digits
        " 02/10/2558",
        "02/10/2558\n",
        "",
    ],
)
def test_parse_be_date_rejects(bad: str) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_be_date(bad, field="birth_date")
    assert exc.value.field == "birth_date"
    assert exc.value.code == "invalid_date"
    assert "วันที่" in exc.value.message


def test_parse_be_date_rejects_non_str() -> None:
    with pytest.raises(ValidationError):
        parse_be_date(date(2015, 10, 2))  # type: ignore[arg-type]


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2150, 12, 31)))
def test_be_date_round_trip(d: date) -> None:
    assert parse_be_date(format_be_date(d)) == d


@pytest.mark.parametrize(
    ("d", "fy"),
    [
        (date(2022, 9, 30), 2565),
        (date(2022, 10, 1), 2566),
        (date(2023, 1, 1), 2566),
        (date(2023, 9, 30), 2566),
        (date(2023, 10, 1), 2567),
        (date(2021, 12, 13), 2565),
    ],
)
def test_fiscal_year(d: date, fy: int) -> None:
    assert fiscal_year(d) == fy


def test_fiscal_year_bounds() -> None:
    assert fiscal_year_bounds(2566) == (date(2022, 10, 1), date(2023, 9, 30))
    assert fiscal_year_bounds(2565) == (date(2021, 10, 1), date(2022, 9, 30))


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2150, 12, 31)))
def test_fiscal_year_consistent_with_bounds(d: date) -> None:
    first, last = fiscal_year_bounds(fiscal_year(d))
    assert first <= d <= last


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        (date(1963, 10, 2), date(2023, 10, 1), 59),
        (date(1963, 10, 2), date(2023, 10, 2), 60),
        (date(1963, 10, 2), date(2023, 10, 3), 60),
        (date(2000, 2, 29), date(2023, 2, 28), 22),
        (date(2000, 2, 29), date(2023, 3, 1), 23),
        (date(2000, 2, 29), date(2024, 2, 29), 24),
        (date(2020, 5, 5), date(2020, 5, 5), 0),
    ],
)
def test_age_on(birth: date, on: date, age: int) -> None:
    assert age_on(birth, on) == age


def test_age_on_rejects_future_birth() -> None:
    with pytest.raises(ValidationError) as exc:
        age_on(date(2024, 1, 2), date(2024, 1, 1))
    assert exc.value.field == "birth_date"


# --------------------------------------------------------------------------- baht


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (Decimal("8000.00"), "แปดพันบาทถ้วน"),
        (Decimal("1800.50"), "หนึ่งพันแปดร้อยบาทห้าสิบสตางค์"),
        (Decimal("21"), "ยี่สิบเอ็ดบาทถ้วน"),
        (Decimal("101"), "หนึ่งร้อยเอ็ดบาทถ้วน"),
        (Decimal("1000000"), "หนึ่งล้านบาทถ้วน"),
        (Decimal("0.25"), "ยี่สิบห้าสตางค์"),
        (Decimal("0.01"), "หนึ่งสตางค์"),
        (Decimal("1.01"), "หนึ่งบาทหนึ่งสตางค์"),
        (Decimal("0.11"), "สิบเอ็ดสตางค์"),
        (Decimal("0"), "ศูนย์บาทถ้วน"),
        (Decimal("11"), "สิบเอ็ดบาทถ้วน"),
        (Decimal("20"), "ยี่สิบบาทถ้วน"),
        (Decimal("1000001"), "หนึ่งล้านเอ็ดบาทถ้วน"),
        (Decimal("21000000"), "ยี่สิบเอ็ดล้านบาทถ้วน"),
        (Decimal("1234567.89"), "หนึ่งล้านสองแสนสามหมื่นสี่พันห้าร้อยหกสิบเจ็ดบาทแปดสิบเก้าสตางค์"),
        (Decimal("1000000000000"), "หนึ่งล้านล้านบาทถ้วน"),
        ("3000", "สามพันบาทถ้วน"),
        ("800.5", "แปดร้อยบาทห้าสิบสตางค์"),
        (600, "หกร้อยบาทถ้วน"),
    ],
)
def test_baht_text(amount: Decimal | str | int, text: str) -> None:
    assert baht_text(amount) == text


def test_baht_text_largest_supported_amount_is_exact() -> None:
    assert baht_text(Decimal("9999999999999.99")).endswith("เก้าสิบเก้าบาทเก้าสิบเก้าสตางค์")
    with pytest.raises(ValidationError):
        baht_text(Decimal("10000000000000"))


@pytest.mark.parametrize("bad", [8000.0, 0.25, True])
def test_baht_text_rejects_float_and_bool(bad: object) -> None:
    with pytest.raises(TypeError):
        baht_text(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad", [Decimal("1.005"), Decimal("-1"), Decimal("NaN"), "1,000", "๑๐๐", "1e3", "-5"]
)
def test_baht_text_rejects_invalid_amounts(bad: Decimal | str) -> None:
    with pytest.raises(ValidationError):
        baht_text(bad)


def test_format_baht() -> None:
    assert format_baht(Decimal("1800.50")) == "1,800.50"
    assert format_baht(Decimal("1800.5")) == "1,800.50"
    assert format_baht(Decimal("1234567")) == "1,234,567.00"
    assert format_baht(Decimal("0")) == "0.00"
    assert format_baht(Decimal("999999999999999.99")) == "999,999,999,999,999.99"
    with pytest.raises(TypeError):
        format_baht(1800.5)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        format_baht(Decimal("1.001"))


# --------------------------------------------------------------------------- formula injection


@pytest.mark.parametrize(
    "text",
    [
        "=1+1",
        "+66812345678",
        "-5",
        "@SUM(A1)",
        "\tabc",
        "\rabc",
        "\0abc",
        "  =HYPERLINK(x)",
        "\n@x",
        " \u00a0-1",
    ],
)
def test_formula_like(text: str) -> None:
    assert is_formula_like(text)
    assert excel_safe_text(text) == "'" + text


@pytest.mark.parametrize("text", ["", "   ", "นางสมศรี ใจดี", "1800.50", "a=b", "x-xxxx-xxxx1-23-7", "'=1"])
def test_not_formula_like(text: str) -> None:
    assert not is_formula_like(text)
    assert excel_safe_text(text) == text


@given(st.sampled_from(list("=+-@\t\r\0")), st.text(alphabet=" \u00a0\n", max_size=3), st.text())
def test_formula_triggers_are_always_escaped(trigger: str, ws: str, rest: str) -> None:
    text = ws + trigger + rest
    safe = excel_safe_text(text)
    assert safe.startswith("'")
    assert safe[1:] == text


def test_validation_error_pickles_with_its_attributes() -> None:
    err = ValidationError("ข้อความ", field="national_id", code="invalid_national_id")
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.message, copy.field, copy.code) == ("ข้อความ", "national_id", "invalid_national_id")
    assert str(copy) == "ข้อความ"
