"""Approval's HTTP schemas: syntax only (rules live in the domain and services)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from shared.banks import mask_account_no
from shared.errors import ValidationError as InputError
from shared.money import money_str, parse_amount
from shared.web import ErrorSchema, PageArgs

CASE_TYPES_TH = {"disabled": "เคสผู้พิการ", "general": "เคสประชาชนทั่วไป"}
DISTRICT_CODE = validate.Regexp(r"^[0-9]{4}$", error="รหัสเขตต้องเป็นตัวเลข 4 หลัก")
# A meeting falls in a fiscal year the system knows (B.E. 2500-2700, as ?fiscal_year= does).
MEETING_DATE = validate.Range(
    min=dt.date(1956, 10, 1), max=dt.date(2157, 9, 30), error="วันที่ประชุมต้องอยู่ในปีงบประมาณ พ.ศ. 2500-2700"
)


class MoneyField(fields.Field):
    """Baht as a string with 2 decimals out; a string or whole number in (never a float)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else money_str(Decimal(value))

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        try:
            return parse_amount(value, attr or "amount")
        except InputError as exc:
            raise ValidationError(exc.message) from None


class TextOrNumber(fields.String):
    """A short label typed as text or a number (e.g. the meeting number "3/2566" or 3)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        return str(super()._deserialize(value, attr, data, **kwargs)).strip()


class ApprovalErrorSchema(ErrorSchema):
    """An error answer (the CONTRACT's shape), named apart from flask-smorest's own ``Error``."""


_mask_account = mask_account_no


# --- agenda ----------------------------------------------------------------------------------------
class AgendaItemSchema(Schema):
    """A case as the committee sees it (no national ID: approval never receives one)."""

    case_id = fields.String()
    case_no = fields.String()
    fiscal_year = fields.Integer()
    district_code = fields.String()
    title = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    full_name = fields.Function(lambda i: f"{i.title} {i.first_name} {i.last_name}")
    case_type = fields.String()
    case_type_th = fields.Function(lambda i: CASE_TYPES_TH.get(i.case_type, i.case_type))
    welfare_type_code = fields.String()
    welfare_type_name = fields.String()
    regulation_ref = fields.String(allow_none=True)
    amount = MoneyField()
    status = fields.String()
    batch_id = fields.String(allow_none=True)
    disqualify_reason = fields.String(allow_none=True)
    registered_at = fields.DateTime()
    decided_by = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    amended_by = fields.String(allow_none=True)
    amended_at = fields.DateTime(allow_none=True)
    version = fields.Integer()


class ClosingSchema(Schema):
    """The batch of the district being locked right now."""

    batch_id = fields.String(attribute="id")
    job_id = fields.String(allow_none=True)
    count = fields.Integer()
    total_amount = MoneyField()
    meeting_date = fields.Date()
    created_by = fields.String()
    created_at = fields.DateTime()


class AgendaSchema(Schema):
    """The district's current agenda with its count and total."""

    district_code = fields.String()
    items = fields.List(fields.Nested(AgendaItemSchema))
    count = fields.Integer()
    total_amount = MoneyField()
    closing = fields.Nested(ClosingSchema, allow_none=True)


class DistrictArgs(Schema):
    """``?district_code=`` (city-wide roles choose a district; others get their own)."""

    district_code = fields.String(load_default=None, validate=DISTRICT_CODE)


class CaseListSchema(Schema):
    """A list of cases with its count and total."""

    items = fields.List(fields.Nested(AgendaItemSchema))
    total = fields.Integer()
    total_amount = MoneyField()


class DisqualifyArgs(Schema):
    """Why the committee found the case not qualified."""

    reason = fields.String(
        required=True,
        validate=validate.Length(max=1000, error="สาเหตุการขาดคุณสมบัติยาวเกิน 1,000 ตัวอักษร"),
        error_messages={"required": "กรุณาระบุสาเหตุการขาดคุณสมบัติ", "null": "กรุณาระบุสาเหตุการขาดคุณสมบัติ"},
    )


class AmendArgs(Schema):
    """The committee's resolution: a new welfare type and/or amount."""

    welfare_type_code = fields.String(
        load_default=None, validate=validate.Length(min=1, max=40, error="รหัสประเภทเงินสงเคราะห์ไม่ถูกต้อง")
    )
    amount = MoneyField(load_default=None)


# --- meetings --------------------------------------------------------------------------------------
class MeetingArgs(Schema):
    """A meeting of the district committee."""

    meeting_date = fields.Date(required=True, validate=MEETING_DATE)
    number = TextOrNumber(
        required=True, validate=validate.Length(min=1, max=40, error="ครั้งที่ประชุมต้องมี 1–40 ตัวอักษร")
    )
    attendees = fields.List(
        fields.String(validate=validate.Length(min=1, max=200)),
        required=True,
        validate=validate.Length(min=1, max=100, error="กรุณาระบุผู้เข้าประชุมอย่างน้อย 1 คน (ไม่เกิน 100 คน)"),
    )
    notes = fields.String(load_default="", validate=validate.Length(max=10_000))


class MeetingSchema(Schema):
    """A recorded meeting."""

    id = fields.String()
    district_code = fields.String()
    meeting_date = fields.Date()
    fiscal_year = fields.Integer()
    number = fields.String()
    attendees = fields.List(fields.String())
    notes = fields.String()
    created_by = fields.String()
    created_at = fields.DateTime()


class MeetingListSchema(Schema):
    """A page of meetings."""

    items = fields.List(fields.Nested(MeetingSchema))
    total = fields.Integer()


class FiscalYearPageArgs(PageArgs):
    """``?fiscal_year=&page=&per_page=``."""

    fiscal_year = fields.Integer(load_default=None, validate=validate.Range(min=2500, max=2700))
    district_code = fields.String(load_default=None, validate=DISTRICT_CODE)


# --- batches ---------------------------------------------------------------------------------------
class CloseArgs(Schema):
    """Close the agenda into an approval batch, for the meeting that approved it."""

    meeting_date = fields.Date(load_default=None, validate=MEETING_DATE)
    meeting_id = fields.String(load_default=None, validate=validate.Length(min=1, max=36))


class CloseResultSchema(Schema):
    """The job that follows the batch until it is approved (or fails)."""

    job_id = fields.String()
    batch_id = fields.String()
    status = fields.String()


class RefusalSchema(Schema):
    """Why intake could not lock one case."""

    case_id = fields.String()
    case_no = fields.String(allow_none=True)
    reason = fields.String()


class BatchSchema(Schema):
    """An approval batch."""

    id = fields.String()
    title = fields.String(allow_none=True)
    number = fields.Integer(allow_none=True)
    fiscal_year = fields.Integer()
    district_code = fields.String()
    meeting_date = fields.Date()
    meeting_id = fields.String(allow_none=True)
    status = fields.String()
    count = fields.Integer()
    total_amount = MoneyField()
    job_id = fields.String(allow_none=True)
    created_by = fields.String()
    created_at = fields.DateTime()
    approved_at = fields.DateTime(allow_none=True)
    failed_at = fields.DateTime(allow_none=True)
    settled_at = fields.DateTime(allow_none=True)
    failure = fields.List(fields.Nested(RefusalSchema), allow_none=True)


class BatchListSchema(Schema):
    """A page of batches."""

    items = fields.List(fields.Nested(BatchSchema))
    total = fields.Integer()


class BankSchema(Schema):
    """Where a payee is paid (the account number masked to its last 4 digits)."""

    bank_code = fields.String()
    branch_code = fields.String(allow_none=True)
    account_name = fields.String()
    account_no = fields.Function(lambda b: _mask_account(b.get("account_no")))


def _bank(row: dict[str, Any]) -> Any:
    snapshot = row["item"].snapshot
    return BankSchema().dump(snapshot["bank"]) if snapshot and snapshot.get("bank") else None


class BatchCaseSchema(Schema):
    """A case of a batch."""

    position = fields.Function(lambda r: r["item"].position)
    case_id = fields.Function(lambda r: r["item"].case_id)
    case_no = fields.Function(lambda r: r["item"].case_no)
    title = fields.Function(lambda r: r["case"].title)
    first_name = fields.Function(lambda r: r["case"].first_name)
    last_name = fields.Function(lambda r: r["case"].last_name)
    full_name = fields.Function(lambda r: f"{r['case'].title} {r['case'].first_name} {r['case'].last_name}")
    case_type = fields.Function(lambda r: r["case"].case_type)
    welfare_type_code = fields.Function(lambda r: r["item"].welfare_type_code)
    welfare_type_name = fields.Function(lambda r: r["case"].welfare_type_name)
    regulation_ref = fields.Function(lambda r: r["case"].regulation_ref)
    amount = fields.Function(lambda r: money_str(r["item"].amount))
    bank = fields.Function(_bank)


class BatchDetailSchema(BatchSchema):
    """An approval batch with its cases (dumps a ``batches.BatchDetail``)."""

    items = fields.List(fields.Nested(BatchCaseSchema))

    def get_attribute(self, obj: Any, attr: str, default: Any) -> Any:
        return super().get_attribute(obj if attr == "items" else obj.batch, attr, default)
