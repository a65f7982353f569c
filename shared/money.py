"""Money as exact Decimal baht with 2 decimals: strict parsing and satang conversion (never floats)."""

from __future__ import annotations

import re
from decimal import Decimal, localcontext

from shared.errors import ValidationError

__all__ = ["MAX_AMOUNT", "MONEY_QUANT", "from_satang", "money_str", "parse_amount", "to_satang"]

MONEY_QUANT = Decimal("0.01")
# Largest amount the KTB 17-digit amount field can hold (15 integer digits + 2 decimals).
MAX_AMOUNT = Decimal("999999999999999.99")

_AMOUNT_RE = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,2})?", re.ASCII)


def _fmt(d: Decimal) -> str:
    return f"{d:,.2f}"


def parse_amount(value: object, field: str = "amount", *, max_value: Decimal | None = None) -> Decimal:
    """Parse a positive baht amount ("3000", "3000.5", int or Decimal) into a Decimal with 2 decimals."""
    if isinstance(value, float):
        raise ValidationError(
            "จำนวนเงินต้องส่งเป็นข้อความหรือจำนวนเต็ม ห้ามใช้ตัวเลขทศนิยมแบบ float", field=field, code="float_amount"
        )
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValidationError("จำนวนเงินต้องเป็นตัวเลข", field=field, code="invalid_amount")
    if isinstance(value, str):
        if _AMOUNT_RE.fullmatch(value) is None:
            raise ValidationError(
                "จำนวนเงินต้องเป็นตัวเลขอารบิก ทศนิยมไม่เกิน 2 ตำแหน่ง ไม่มีเครื่องหมายจุลภาค ช่องว่าง หรือเครื่องหมายบวกลบ"
                " เช่น 3000.00",
                field=field,
                code="invalid_amount",
            )
        amount = Decimal(value)
    else:
        amount = Decimal(value)
        if not amount.is_finite():
            raise ValidationError("จำนวนเงินไม่ถูกต้อง", field=field, code="invalid_amount")
    if amount <= 0:
        raise ValidationError("จำนวนเงินต้องมากกว่า 0", field=field, code="amount_not_positive")
    if amount > MAX_AMOUNT:
        raise ValidationError(
            f"จำนวนเงินต้องไม่เกิน {_fmt(MAX_AMOUNT)} บาท", field=field, code="amount_too_large"
        )
    quantized = amount.quantize(MONEY_QUANT)
    if quantized != amount:
        raise ValidationError("จำนวนเงินต้องมีทศนิยมไม่เกิน 2 ตำแหน่ง", field=field, code="invalid_amount")
    if max_value is not None and quantized > max_value:
        raise ValidationError(f"จำนวนเงินต้องไม่เกิน {_fmt(max_value)} บาท", field=field, code="amount_too_large")
    return quantized


def to_satang(d: Decimal) -> int:
    """Convert an exact baht Decimal to integer satang; raise ValueError if it has fractions of a satang."""
    if not isinstance(d, Decimal):
        raise TypeError("to_satang expects a Decimal")
    if not d.is_finite():
        raise ValueError(f"not a finite amount: {d}")
    with localcontext() as ctx:
        ctx.prec = max(28, len(d.as_tuple().digits) + 4)  # never round while scaling
        satang = d.scaleb(2)
    if satang != satang.to_integral_value():
        raise ValueError(f"amount has fractions of a satang: {d}")
    return int(satang)


def from_satang(n: int) -> Decimal:
    """Convert integer satang to a baht Decimal with exactly 2 decimals."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError("from_satang expects an int")
    with localcontext() as ctx:
        ctx.prec = max(28, len(str(abs(n))) + 4)  # never round while scaling
        return Decimal(n).scaleb(-2)


def money_str(d: Decimal) -> str:
    """Format an exact amount as plain text with 2 decimals and no separators, e.g. "3000.00"."""
    return f"{from_satang(to_satang(d)):f}"
