"""Reporting's HTTP schemas (marshmallow): query arguments, bodies and answers."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from services.reporting.domain import FISCAL_YEAR_MAX, FISCAL_YEAR_MIN
from shared.web import PageArgs

FISCAL_YEAR_MESSAGE = f"ปีงบประมาณต้องเป็นปี พ.ศ. ระหว่าง {FISCAL_YEAR_MIN} ถึง {FISCAL_YEAR_MAX} เช่น 2566"
DISTRICT_MESSAGE = "รหัสเขตต้องเป็นตัวเลข 4 หลัก เช่น 1008"


def fiscal_year_field(**kw: Any) -> fields.Integer:
    """A Buddhist-era fiscal year, 2500..2700 (a CE year typed by mistake is refused)."""
    return fields.Integer(
        validate=validate.Range(min=FISCAL_YEAR_MIN, max=FISCAL_YEAR_MAX, error=FISCAL_YEAR_MESSAGE),
        error_messages={"invalid": FISCAL_YEAR_MESSAGE},
        **kw,
    )


def district_field(**kw: Any) -> fields.String:
    """A district's 4-digit code."""
    return fields.String(validate=validate.Regexp(r"^[0-9]{4}$", error=DISTRICT_MESSAGE), **kw)


class AmountString(fields.Field):
    """A non-negative amount written as a string with at most 2 decimals ("1500000.00"); a Decimal."""

    _RE = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,2})?", re.ASCII)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if not isinstance(value, str) or self._RE.fullmatch(value) is None:
            raise ValidationError(
                'จำนวนเงินต้องเป็นข้อความตัวเลขอารบิก ทศนิยมไม่เกิน 2 ตำแหน่ง ไม่มีเครื่องหมายจุลภาค เช่น "1500000.00"'
            )
        return Decimal(value).quantize(Decimal("0.01"))

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else f"{value:.2f}"


# --- arguments -------------------------------------------------------------------------------------
class ScopeArgs(Schema):
    """``?fiscal_year=&district_code=`` (a district's users always get their own district)."""

    fiscal_year = fiscal_year_field(load_default=None)
    district_code = district_field(load_default=None)


class BatchListArgs(PageArgs):
    """``?fiscal_year=&district_code=&page=&per_page=``."""

    fiscal_year = fiscal_year_field(load_default=None)
    district_code = district_field(load_default=None)


class DistrictArgs(Schema):
    """``?district_code=`` (city-wide roles name the district)."""

    district_code = district_field(load_default=None)


class BudgetBody(Schema):
    """``{"amount": "1500000.00"}``."""

    amount = AmountString(required=True)


class SignatureSchema(Schema):
    """One signature block: label (ผู้จัดทำ), the signer's name and position."""

    label = fields.String(required=True, validate=validate.Length(max=60))
    name = fields.String(load_default="", validate=validate.Length(max=120))
    position = fields.String(load_default="", validate=validate.Length(max=200))


class TemplateBody(Schema):
    """A district's adjustments of a document's layout text; keys left out keep the default.

    ``{}`` returns the document to its default.  Text may use placeholders such as
    ``{district_name}``, ``{batch_title}``, ``{group_name}`` (docs/reporting.md).
    """

    district_code = district_field(load_default=None)
    title = fields.String(validate=validate.Length(min=1, max=200))
    header_lines = fields.List(
        fields.String(validate=validate.Length(max=200)), validate=validate.Length(max=6)
    )
    regulation_heading = fields.String(validate=validate.Length(min=1, max=400))
    signatures = fields.List(fields.Nested(SignatureSchema), validate=validate.Length(max=6))
    footer_lines = fields.List(
        fields.String(validate=validate.Length(max=300)), validate=validate.Length(max=4)
    )
    orientation = fields.String(validate=validate.OneOf(["P", "L"]))
    font_size = fields.Integer(validate=validate.Range(min=9, max=16))


# --- answers ---------------------------------------------------------------------------------------
class BatchSchema(Schema):
    """An approval batch in the report menu."""

    id = fields.String(attribute="batch_id")
    district_code = fields.String()
    fiscal_year = fields.Integer(allow_none=True)
    number = fields.Integer(allow_none=True)
    title = fields.String(allow_none=True)
    meeting_date = fields.Date(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)
    count = fields.Integer(attribute="case_count", allow_none=True)
    total_amount = fields.Decimal(places=2, as_string=True, allow_none=True)
    status = fields.String()
    settled_at = fields.DateTime(allow_none=True)


class BatchListSchema(Schema):
    """A page of batches."""

    items = fields.List(fields.Nested(BatchSchema))
    total = fields.Integer()


class MeasuresSchema(Schema):
    """Cases and amounts of one group (amounts as strings with 2 decimals)."""

    cases = fields.Integer()
    requested_amount = fields.String()
    approved_cases = fields.Integer()
    approved_amount = fields.String()
    paid_cases = fields.Integer()
    paid_amount = fields.String()
    failed_cases = fields.Integer()
    failed_amount = fields.String()


class ByStatusSchema(MeasuresSchema):
    """Figures of one status."""

    status = fields.String()
    status_name = fields.String()


class ByWelfareTypeSchema(MeasuresSchema):
    """Figures of one welfare type."""

    welfare_type_code = fields.String()
    welfare_type_name = fields.String()


class ByDistrictSchema(MeasuresSchema):
    """Figures of one district."""

    district_code = fields.String()
    district_name = fields.String()


class ByMonthSchema(MeasuresSchema):
    """Figures of one month of registration ("2022-10")."""

    month = fields.String()


class ByFiscalYearSchema(MeasuresSchema):
    """Figures of one fiscal year."""

    fiscal_year = fields.Integer()


class BudgetSchema(Schema):
    """A district's allocation for a fiscal year and how much of it was paid out."""

    fiscal_year = fields.Integer()
    district_code = fields.String()
    district_name = fields.String()
    allocated_amount = fields.String(allow_none=True)
    disbursed_amount = fields.String()
    share_disbursed = fields.String(allow_none=True, metadata={"description": "per cent, 2 decimals"})
    updated_at = fields.DateTime(allow_none=True)
    updated_by = fields.String(allow_none=True)


class BudgetListSchema(Schema):
    """Budgets with their disbursement."""

    items = fields.List(fields.Nested(BudgetSchema))
    total = fields.Integer()


class DailySchema(Schema):
    """Cases registered on one day (Bangkok time)."""

    date = fields.Date()
    cases = fields.Integer()


class SummarySchema(Schema):
    """The management summary."""

    fiscal_year = fields.Integer(allow_none=True)
    district_code = fields.String(allow_none=True)
    totals = fields.Nested(MeasuresSchema)
    by_status = fields.List(fields.Nested(ByStatusSchema))
    by_welfare_type = fields.List(fields.Nested(ByWelfareTypeSchema))
    by_district = fields.List(fields.Nested(ByDistrictSchema))
    by_month = fields.List(fields.Nested(ByMonthSchema))
    by_fiscal_year = fields.List(fields.Nested(ByFiscalYearSchema))
    budgets = fields.List(fields.Nested(BudgetSchema))
    daily_intake = fields.List(fields.Nested(DailySchema))


class TemplateSchema(Schema):
    """A document's template for a district: the effective text and the district's own changes."""

    doc = fields.String()
    district_code = fields.String()
    template = fields.Dict()
    override = fields.Dict(allow_none=True)
    updated_at = fields.DateTime(allow_none=True)
    updated_by = fields.String(allow_none=True)
