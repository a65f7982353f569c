"""Intake's HTTP schemas: syntax is checked here, rules in the service and the domain."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate

from services.intake import domain
from shared import errors
from shared.money import money_str, parse_amount
from shared.thai import mask_national_id, parse_national_id
from shared.web import PageArgs

# Names and short texts: no control characters (a tab or NUL in a name is never intended).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Long texts may hold line breaks and tabs, nothing else below space.
_CONTROL_EXCEPT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _text(max_len: int, *, lines: bool = False) -> validate.Validator:
    pattern = _CONTROL_EXCEPT_LINES if lines else _CONTROL

    def check(value: str) -> None:
        if not value.strip():
            raise ValidationError("กรุณากรอกข้อมูลช่องนี้")
        if len(value) > max_len:
            raise ValidationError(f"ยาวเกินกำหนด (ไม่เกิน {max_len} ตัวอักษร)")
        if pattern.search(value):
            raise ValidationError("มีอักขระควบคุมที่ไม่อนุญาต")

    return check


class NationalIdField(fields.String):
    """A 13-digit Thai national ID with a valid check digit (ASCII digits only)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        try:
            return parse_national_id(value, field=attr or "national_id")
        except errors.ValidationError as exc:
            raise ValidationError(exc.message) from None


class AmountField(fields.Field):
    """Baht as a string with at most 2 decimals ("3000.00"); more than 0; never a float."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {"type": "string", "example": "3000.00"})
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        try:
            return parse_amount(value, field=attr or "amount")
        except errors.ValidationError as exc:
            raise ValidationError(exc.message) from None

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else money_str(value)


HOUSE_ID = validate.Regexp(r"^[0-9]{11}$", error="รหัสประจำบ้านต้องเป็นตัวเลขอารบิก 11 หลัก")
PHONE = validate.Regexp(
    r"^0[0-9]{8,9}$", error="หมายเลขโทรศัพท์ต้องเป็นตัวเลขอารบิก 9-10 หลัก ขึ้นต้นด้วย 0 ไม่มีขีดหรือช่องว่าง"
)
CODE = validate.Regexp(r"^[A-Z][A-Z0-9_]{1,39}$", error="รหัสต้องเป็นอักษรภาษาอังกฤษตัวใหญ่ ตัวเลข หรือ _ (2-40 ตัว)")


# --- reference data ----------------------------------------------------------------------------
class DistrictSchema(Schema):
    """A Bangkok district."""

    code = fields.String()
    name_th = fields.String()


class BankSchema(Schema):
    """A bank payees may use."""

    code = fields.String()
    name_th = fields.String()
    short_name = fields.String()
    branch_code_required = fields.Boolean()


def _documents(obj: Any) -> list[str]:
    return [k for k in (obj.required_documents or "").split(",") if k]


class WelfareTypeSchema(Schema):
    """A welfare type of the catalogue; ``*_source`` says whether the seeds give the value."""

    code = fields.String()
    name_th = fields.String()
    regulation_ref = fields.String(allow_none=True)
    ceiling = fields.Decimal(places=2, as_string=True, allow_none=True)
    ceiling_scope = fields.String()
    ceiling_source = fields.String()
    repeat_limit = fields.Integer(allow_none=True)
    repeat_limit_source = fields.String()
    required_documents = fields.Function(_documents, metadata={"type": "array", "items": {"type": "string"}})
    active = fields.Boolean()
    updated_at = fields.DateTime(allow_none=True)
    updated_by = fields.String(allow_none=True)


class WelfareTypeWriteSchema(Schema):
    """A new welfare type, or the fields of one to change (PATCH: every field optional)."""

    code = fields.String(required=True, validate=CODE)
    name_th = fields.String(required=True, validate=_text(200))
    regulation_ref = fields.String(allow_none=True, validate=validate.Length(max=120))
    ceiling = AmountField(allow_none=True)
    ceiling_scope = fields.String(validate=validate.OneOf(domain.CEILING_SCOPES))
    repeat_limit = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=100))
    required_documents = fields.List(fields.String(validate=validate.OneOf(domain.DOCUMENT_KINDS)))
    active = fields.Boolean()

    @post_load
    def _join_documents(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if "required_documents" in data:
            data["required_documents"] = ",".join(
                k for k in domain.DOCUMENT_KINDS if k in data["required_documents"]
            )
        return data


class WelfareTypePatchSchema(WelfareTypeWriteSchema):
    """The fields of a welfare type to change."""

    class Meta:
        exclude = ("code",)

    name_th = fields.String(validate=_text(200))


class ProgrammeSchema(Schema):
    """A programme and its exclusion rule."""

    code = fields.String()
    name_th = fields.String()
    welfare_type_code = fields.String()
    reference = fields.String(allow_none=True)
    rule_code = fields.String()
    excluded_welfare_type_code = fields.String()
    excluded_fiscal_year = fields.Integer()
    source = fields.String()
    active = fields.Boolean()
    updated_at = fields.DateTime(allow_none=True)
    updated_by = fields.String(allow_none=True)


class ProgrammeWriteSchema(Schema):
    """A new programme: refuse anyone granted ``excluded_welfare_type_code`` in ``excluded_fiscal_year``."""

    code = fields.String(required=True, validate=CODE)
    name_th = fields.String(required=True, validate=_text(300))
    welfare_type_code = fields.String(required=True, validate=CODE)
    reference = fields.String(allow_none=True, validate=validate.Length(max=300))
    rule_code = fields.String(validate=validate.Regexp(r"^[a-z][a-z0-9_]{2,79}$"))
    excluded_welfare_type_code = fields.String(required=True, validate=CODE)
    excluded_fiscal_year = fields.Integer(required=True, validate=validate.Range(min=2500, max=2700))
    active = fields.Boolean()


class ProgrammePatchSchema(ProgrammeWriteSchema):
    """The fields of a programme to change."""

    class Meta:
        exclude = ("code",)

    name_th = fields.String(validate=_text(300))
    welfare_type_code = fields.String(validate=CODE)
    excluded_welfare_type_code = fields.String(validate=CODE)
    excluded_fiscal_year = fields.Integer(validate=validate.Range(min=2500, max=2700))


# --- cases -----------------------------------------------------------------------------------------
class BankDetailsSchema(Schema):
    """Where the payee is paid (KTB spec §7 rules are checked by the service)."""

    bank_code = fields.String(required=True)
    branch_code = fields.String(load_default=None, allow_none=True)
    account_name = fields.String(required=True, validate=_text(100))
    account_no = fields.String(required=True, validate=validate.Length(min=1, max=40))


class CaseCreateSchema(Schema):
    """``POST /cases``: every field of the manual's recording screen."""

    national_id = NationalIdField(required=True)
    title = fields.String(required=True, validate=_text(40))
    sex = fields.String(required=True, validate=validate.OneOf(domain.SEXES))
    first_name = fields.String(required=True, validate=_text(100))
    last_name = fields.String(required=True, validate=_text(100))
    birth_date = fields.Date(required=True)
    disabled = fields.Boolean(required=True)
    house_id = fields.String(load_default=None, allow_none=True, validate=HOUSE_ID)
    welfare_type_code = fields.String(required=True, validate=validate.Length(min=1, max=40))
    programme_code = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=40)
    )
    amount = AmountField(required=True)
    hardship = fields.String(required=True, validate=_text(5000, lines=True))
    bank = fields.Nested(BankDetailsSchema, required=True)
    phone = fields.String(load_default=None, allow_none=True, validate=PHONE)
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254))


class CaseUpdateSchema(Schema):
    """``PATCH /cases/{id}``: any field but the national ID (which is refused with 422)."""

    national_id = fields.Raw(metadata={"description": "cannot be changed: answered with 422"})
    title = fields.String(validate=_text(40))
    sex = fields.String(validate=validate.OneOf(domain.SEXES))
    first_name = fields.String(validate=_text(100))
    last_name = fields.String(validate=_text(100))
    birth_date = fields.Date()
    disabled = fields.Boolean()
    house_id = fields.String(allow_none=True, validate=HOUSE_ID)
    welfare_type_code = fields.String(validate=validate.Length(min=1, max=40))
    programme_code = fields.String(allow_none=True, validate=validate.Length(min=1, max=40))
    amount = AmountField()
    hardship = fields.String(validate=_text(5000, lines=True))
    bank = fields.Nested(BankDetailsSchema)
    phone = fields.String(allow_none=True, validate=PHONE)
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))


class BankOutSchema(Schema):
    """A case's bank details."""

    bank_code = fields.String()
    branch_code = fields.String(allow_none=True)
    account_name = fields.String()
    account_no = fields.String()


class CaseSchema(Schema):
    """One case as recorded or edited (national ID and account number masked)."""

    id = fields.String()
    case_no = fields.String()
    fiscal_year = fields.Integer()
    district_code = fields.String()
    national_id = fields.Function(lambda c: mask_national_id(c.national_id))
    national_id_masked = fields.Function(lambda c: mask_national_id(c.national_id))
    title = fields.String()
    sex = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    birth_date = fields.Date()
    age = fields.Integer()
    disabled = fields.Boolean()
    case_type = fields.String()
    case_type_th = fields.Function(lambda c: domain.CASE_TYPE_TH[c.case_type])
    house_id = fields.String(allow_none=True)
    welfare_type_code = fields.String()
    programme_code = fields.String(allow_none=True)
    amount = fields.Decimal(places=2, as_string=True)
    hardship = fields.String()
    bank = fields.Function(
        lambda c: {
            "bank_code": c.bank_code,
            "branch_code": c.branch_code,
            "account_name": c.account_name,
            "account_no": domain.mask_account(c.account_no),
        },
        metadata={"type": "object"},
    )
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    status = fields.String()
    status_th = fields.Function(lambda c: domain.STATUS_TH[c.status])
    status_reason = fields.String(allow_none=True)
    locked = fields.Function(lambda c: c.locked_batch_id is not None, metadata={"type": "boolean"})
    locked_batch_id = fields.String(allow_none=True)
    recorded_at = fields.DateTime()
    recorded_by = fields.String()
    updated_at = fields.DateTime()


class CaseListItemSchema(Schema):
    """A case in a list (national ID masked, no bank details)."""

    id = fields.String()
    case_no = fields.String()
    fiscal_year = fields.Integer()
    district_code = fields.String()
    national_id_masked = fields.Function(lambda c: mask_national_id(c.national_id))
    title = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    case_type = fields.String()
    age = fields.Integer()
    welfare_type_code = fields.String()
    amount = fields.Decimal(places=2, as_string=True)
    status = fields.String()
    locked = fields.Function(lambda c: c.locked_batch_id is not None, metadata={"type": "boolean"})
    recorded_at = fields.DateTime()


class CaseListSchema(Schema):
    """A page of cases."""

    items = fields.List(fields.Nested(CaseListItemSchema))
    total = fields.Integer()


class CaseQueryArgs(PageArgs):
    """``?status=&fiscal_year=&q=&welfare_type_code=&national_id=&district_code=``."""

    status = fields.String(validate=validate.OneOf(domain.STATUSES))
    fiscal_year = fields.Integer(validate=validate.Range(min=2500, max=2700))
    q = fields.String(validate=validate.Length(min=1, max=100))
    welfare_type_code = fields.String(validate=validate.Length(min=1, max=40))
    national_id = NationalIdField()
    district_code = fields.String(validate=validate.Regexp(r"^[0-9]{4}$"))


class DocumentSchema(Schema):
    """One version of a case's document."""

    kind = fields.String()
    sha256 = fields.String()
    size = fields.Integer()
    uploaded_at = fields.DateTime()
    uploaded_by = fields.String()
    replaced_at = fields.DateTime(allow_none=True)
    replaced_by = fields.String(allow_none=True)


class DocumentFormSchema(Schema):
    """The form part of a document upload."""

    kind = fields.String(required=True, validate=validate.OneOf(domain.DOCUMENT_KINDS))


class DocumentFileSchema(Schema):
    """The file part of a document upload (a PDF)."""

    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class DocumentVersionArgs(Schema):
    """``?sha256=``: an earlier version of the document (replaced versions are kept)."""

    sha256 = fields.String(
        validate=validate.Regexp(
            r"^[0-9a-f]{64}$", error="รหัสตรวจสอบเอกสารต้องเป็น SHA-256 (ตัวเลขฐานสิบหก 64 ตัว ตัวพิมพ์เล็ก)"
        )
    )


class HomeVisitArgs(Schema):
    """A home visit to record."""

    visited_on = fields.Date(required=True)
    findings = fields.String(required=True, validate=_text(5000, lines=True))


class HomeVisitSchema(Schema):
    """A recorded home visit."""

    id = fields.Integer()
    visited_on = fields.Date()
    findings = fields.String()
    officer = fields.String()
    recorded_at = fields.DateTime()


class CaseEventSchema(Schema):
    """An entry of a case's status history."""

    at = fields.DateTime()
    kind = fields.String()
    status = fields.String(allow_none=True)
    status_th = fields.Function(lambda e: domain.STATUS_TH.get(e.status) if e.status else None)
    by = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    details = fields.Dict(allow_none=True)


class AuditTrailSchema(Schema):
    """Who did what to the case, and when (field names only)."""

    occurred_at = fields.DateTime()
    action = fields.String()
    actor = fields.String()
    role = fields.String(allow_none=True)
    fields_ = fields.List(fields.String(), data_key="fields", attribute="fields")


class CaseDetailSchema(CaseSchema):
    """A case with its documents, home visits, status history and audit trail.

    The one place the national ID and the account number are shown in full (the read is audited).
    """

    national_id = fields.String()
    bank = fields.Function(
        lambda c: {
            "bank_code": c.bank_code,
            "branch_code": c.branch_code,
            "account_name": c.account_name,
            "account_no": c.account_no,
        },
        metadata={"type": "object"},
    )

    welfare_type_name = fields.String(allow_none=True)
    regulation_ref = fields.String(allow_none=True)
    documents = fields.List(fields.Nested(DocumentSchema))
    missing_documents = fields.List(fields.String())
    home_visits = fields.List(fields.Nested(HomeVisitSchema))
    history = fields.List(fields.Nested(CaseEventSchema))
    audit_trail = fields.List(fields.Nested(AuditTrailSchema))


class AmendmentArgs(Schema):
    """A committee amendment approval wants to record."""

    welfare_type_code = fields.String(required=True, validate=validate.Length(min=1, max=40))
    amount = AmountField(required=True)


class AmendmentOkSchema(Schema):
    """The amendment is allowed; the welfare type's name and reference travel with it."""

    ok = fields.Boolean()
    welfare_type_code = fields.String(attribute="welfare_type.code")
    welfare_type_name = fields.String(attribute="welfare_type.name_th")
    regulation_ref = fields.String(attribute="welfare_type.regulation_ref", allow_none=True)
    amount = AmountField()


# --- history ---------------------------------------------------------------------------------------
class HistoryQueryArgs(Schema):
    """The request about to be recorded, to warn about ceilings and programme rules."""

    welfare_type_code = fields.String(validate=validate.Length(min=1, max=40))
    amount = AmountField()
    house_id = fields.String(validate=HOUSE_ID)
    programme_code = fields.String(validate=validate.Length(min=1, max=40))


class HistoryCaseSchema(Schema):
    """An earlier case of the person (any district, any fiscal year)."""

    id = fields.String()
    case_no = fields.String()
    fiscal_year = fields.Integer()
    district_code = fields.String()
    district_name = fields.String()
    welfare_type_code = fields.String()
    welfare_type_name = fields.String(allow_none=True)
    amount = fields.Decimal(places=2, as_string=True)
    status = fields.String()
    status_th = fields.String()
    recorded_at = fields.DateTime()


class WarningSchema(Schema):
    """A warning before recording."""

    code = fields.String()
    message = fields.String()


class HistorySchema(Schema):
    """A person's history with the warnings for a new request."""

    national_id = fields.String()
    fiscal_year = fields.Integer()
    cases = fields.List(fields.Nested(HistoryCaseSchema))
    warnings = fields.List(fields.Nested(WarningSchema))
