"""Unit tests for shared.money: strict amount parsing and satang conversion."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import ValidationError
from shared.money import MAX_AMOUNT, MONEY_QUANT, from_satang, money_str, parse_amount, to_satang

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3000.00", "3000.00"),
        ("3000", "3000.00"),
        ("3000.5", "3000.50"),
        ("0.01", "0.01"),
        ("0003000", "3000.00"),
        (3000, "3000.00"),
        (Decimal("3000"), "3000.00"),
        (Decimal("3000.500"), "3000.50"),  # a Decimal is judged by value, not by its exponent
        (Decimal("3E+3"), "3000.00"),
        ("999999999999999.99", "999999999999999.99"),
    ],
)
def test_parse_amount_accepts(value: object, expected: str) -> None:
    result = parse_amount(value)
    assert isinstance(result, Decimal)
    assert str(result) == expected
    assert result.as_tuple().exponent == -2


def test_parse_amount_rejects_float_with_thai_message() -> None:
    with pytest.raises(ValidationError) as exc:
        parse_amount(3000.0, field="benefit_amount")
    assert exc.value.field == "benefit_amount"
    assert exc.value.code == "float_amount"
    assert "จำนวนเงิน" in exc.value.message


@pytest.mark.parametrize(
    "value",
    [
        "3,000.00",
        "+3000",
        "-3000",
        "3000.001",
        "3000.",
        ".50",
        "1e3",
        "1E3",
        "NaN",
        "Infinity",
        "inf",
        "๓๐๐๐",
        "３０００",
        " 3000",
        "3000 ",
        "3 000",
        "",
        "0x10",
        "3_000",
        "1" * 16,
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("Infinity"),
        Decimal("-Infinity"),
        Decimal("1.005"),
        True,
        None,
        b"3000",
        [3000],
    ],
)
def test_parse_amount_rejects_malformed(value: object) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_amount(value)
    assert exc.value.field == "amount"
    assert "จำนวนเงิน" in exc.value.message


@pytest.mark.parametrize("value", ["0", "0.00", 0, -1, Decimal("-0.01"), Decimal("0")])
def test_parse_amount_rejects_non_positive(value: object) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_amount(value)
    assert exc.value.code == "amount_not_positive"
    assert exc.value.message == "จำนวนเงินต้องมากกว่า 0"


def test_parse_amount_max_value() -> None:
    limit = Decimal("1999999.99")
    assert parse_amount("1999999.99", max_value=limit) == limit
    with pytest.raises(ValidationError) as exc:
        parse_amount("2000000.00", max_value=limit)
    assert exc.value.code == "amount_too_large"
    assert "1,999,999.99" in exc.value.message


def test_parse_amount_refuses_absurdly_large_values() -> None:
    with pytest.raises(ValidationError) as exc:
        parse_amount(Decimal("1E+30"))
    assert exc.value.code == "amount_too_large"
    with pytest.raises(ValidationError):
        parse_amount(10**16)
    assert parse_amount(MAX_AMOUNT) == MAX_AMOUNT


@given(st.text())
def test_parse_amount_total_on_arbitrary_text(text: str) -> None:
    try:
        result = parse_amount(text)
    except ValidationError:
        return
    assert result > 0
    assert result == result.quantize(MONEY_QUANT)


@given(st.integers(min_value=1, max_value=99_999_999_999_999_999))
def test_satang_round_trip(satang: int) -> None:
    amount = from_satang(satang)
    assert to_satang(amount) == satang
    assert parse_amount(money_str(amount)) == amount
    assert parse_amount(str(amount)) == amount


def test_to_satang_and_from_satang() -> None:
    assert to_satang(Decimal("1800.50")) == 180050
    assert to_satang(Decimal("0.01")) == 1
    assert to_satang(Decimal("3E+3")) == 300000
    assert from_satang(180050) == Decimal("1800.50")
    assert str(from_satang(0)) == "0.00"
    assert str(from_satang(5)) == "0.05"
    assert to_satang(Decimal("12345678901234567890123456789.01")) == 1234567890123456789012345678901


def test_to_satang_rejects_fractions_and_bad_types() -> None:
    with pytest.raises(ValueError):
        to_satang(Decimal("0.001"))
    with pytest.raises(ValueError):
        to_satang(Decimal("NaN"))
    with pytest.raises(TypeError):
        to_satang(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        from_satang(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        from_satang(True)


def test_money_str() -> None:
    assert money_str(Decimal("3000")) == "3000.00"
    assert money_str(Decimal("3E+3")) == "3000.00"
    assert money_str(Decimal("1800.5")) == "1800.50"
    assert money_str(Decimal("0.1")) == "0.10"
    with pytest.raises(ValueError):
        money_str(Decimal("0.005"))
