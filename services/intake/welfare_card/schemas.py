"""HTTP schemas of the welfare card measure (syntax here; rules in ``records``/``imports``)."""

from __future__ import annotations

import re
from typing import Any

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate

from shared import errors
from shared.thai import parse_national_id
from shared.web import PageArgs
from shared.welfare_card import AGENCY_CODES, GROUP_CODES, PROGRESS_CODES, PROJECT_KINDS, RESULT_CODES

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_EXCEPT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

PROVINCE = validate.Regexp(r"^[0-9]{2}$", error="รหัสจังหวัดต้องเป็นตัวเลข 2 หลัก เช่น 24")
AREA = validate.Regexp(r"^[0-9]{4}$", error="รหัสเขต/อำเภอต้องเป็นตัวเลข 4 หลัก เช่น 1008")
AGENCY = validate.OneOf(AGENCY_CODES, error="หน่วยงานพัฒนาต้องเป็นค่าใดค่าหนึ่งต่อไปนี้: " + ", ".join(AGENCY_CODES))
GROUP = validate.OneOf(GROUP_CODES, error="กลุ่มต้องเป็นค่าใดค่าหนึ่งต่อไปนี้: " + ", ".join(GROUP_CODES))
RESULT = validate.OneOf(RESULT_CODES, error="ผลการพัฒนาต้องเป็นค่าใดค่าหนึ่งต่อไปนี้: " + ", ".join(RESULT_CODES))
PROGRESS = validate.OneOf(PROGRESS_CODES, error="ความคืบหน้าต้องเป็นค่าใดค่าหนึ่งต่อไปนี้: " + ", ".join(PROGRESS_CODES))
ROUND = validate.Regexp(r"^[0-9]{4}-[0-9]{2}$", error="รอบการติดตามต้องอยู่ในรูป ปปปป-ดด (ค.ศ.) เช่น 2019-06")
PHONE = validate.Regexp(
    r"^0[0-9]{8,9}$", error="หมายเลขโทรศัพท์ต้องเป็นตัวเลขอารบิก 9-10 หลัก ขึ้นต้นด้วย 0 ไม่มีขีดหรือช่องว่าง"
)


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
    """A 13-digit Thai national ID with a valid check digit."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        try:
            return parse_national_id(value, field=attr or "national_id")
        except errors.ValidationError as exc:
            raise ValidationError(exc.message) from None


# --- reference -----------------------------------------------------------------------------------
class ProvinceSchema(Schema):
    """A province."""

    code = fields.String()
    name_th = fields.String()
    name_en = fields.String()


class AreaSchema(Schema):
    """A district (เขต/อำเภอ)."""

    code = fields.String()
    province_code = fields.String()
    name_th = fields.String()
    name_en = fields.String()
    kind_th = fields.String()
    full_name_th = fields.String()


class AreaArgs(Schema):
    """``?province_code=``."""

    province_code = fields.String(validate=PROVINCE)


class CodeNameSchema(Schema):
    """A code and its Thai name."""

    code = fields.String()
    name_th = fields.String()
    full_name_th = fields.String()


class VocabularySchema(Schema):
    """The measure's codes and their Thai names."""

    agencies = fields.List(fields.Nested(CodeNameSchema))
    groups = fields.List(fields.Nested(CodeNameSchema))
    results = fields.List(fields.Nested(CodeNameSchema))
    progress = fields.List(fields.Nested(CodeNameSchema))
    project_kinds = fields.List(fields.Nested(CodeNameSchema))


class PhaseSchema(Schema):
    """A phase or a follow-up round with its deadlines."""

    code = fields.String()
    name_th = fields.String()
    due = fields.Date()
    record_by = fields.Date(allow_none=True)


class PhasesSchema(Schema):
    """The deadlines in force."""

    phases = fields.List(fields.Nested(PhaseSchema))
    rounds = fields.List(fields.Nested(PhaseSchema))


# --- imports -------------------------------------------------------------------------------------
class ImportFormSchema(Schema):
    """The province and developing agency the list is for (every line must match them)."""

    province_code = fields.String(required=True, validate=PROVINCE)
    agency = fields.String(required=True, validate=AGENCY)


class ImportFileSchema(Schema):
    """The participants list (.xlsx or .csv; first row = column names)."""

    file = Upload(required=True)


class ImportAcceptedSchema(Schema):
    """An upload accepted for the worker."""

    job_id = fields.String()
    import_id = fields.Integer()
    status = fields.String()


class RejectedLineSchema(Schema):
    """A refused line."""

    line = fields.Integer()
    field = fields.String()
    message = fields.String()


class ImportSummarySchema(Schema):
    """An import in a list (without its rejected lines)."""

    id = fields.Integer()
    import_id = fields.Integer()
    job_id = fields.String()
    status = fields.String(metadata={"description": "queued | done | rejected | failed"})
    filename = fields.String()
    kind = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    province_code = fields.String()
    agency = fields.String()
    lines = fields.Integer()
    accepted = fields.Integer()
    added = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    rejected_count = fields.Integer()
    message = fields.String(allow_none=True)
    created_by = fields.String()
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)


class ImportSchema(ImportSummarySchema):
    """What an import did (``accepted``: lines kept; ``rejected``: the first 1,000 bad lines)."""

    rejected = fields.List(fields.Nested(RejectedLineSchema))


class ImportListSchema(Schema):
    """A page of imports."""

    items = fields.List(fields.Nested(ImportSummarySchema))
    total = fields.Integer()


# --- participants --------------------------------------------------------------------------------
class ParticipantArgs(PageArgs):
    """``?area_code=&agency=&group=&province_code=&q=`` (``q``: a national ID or an exact name)."""

    area_code = fields.String(validate=AREA)
    agency = fields.String(validate=AGENCY)
    group = fields.String(validate=GROUP)
    province_code = fields.String(validate=PROVINCE)
    q = fields.String(validate=validate.Length(max=100))


class ProjectSchema(Schema):
    """A development project."""

    id = fields.Integer()
    kind = fields.String()
    agency = fields.String(allow_none=True)
    province_code = fields.String(allow_none=True)
    name_th = fields.String()
    active = fields.Boolean()


class DevelopmentSchema(Schema):
    """A development result."""

    id = fields.Integer()
    project = fields.Nested(ProjectSchema)
    result = fields.String()
    recorded_on = fields.Date()
    note = fields.String(allow_none=True)
    revision = fields.Integer()
    late = fields.Boolean()
    recorded_by = fields.String()
    recorded_by_role = fields.String()
    recorded_at = fields.DateTime()


class FollowUpSchema(Schema):
    """A follow-up record."""

    id = fields.Integer()
    round = fields.String()
    progress = fields.String()
    recorded_on = fields.Date()
    note = fields.String(allow_none=True)
    revision = fields.Integer()
    late = fields.Boolean()
    recorded_by = fields.String()
    recorded_at = fields.DateTime()


class ParticipantSchema(Schema):
    """A participant in a list (only the masked national ID)."""

    participant_id = fields.String()
    national_id_masked = fields.String()
    title = fields.String(allow_none=True)
    first_name = fields.String()
    last_name = fields.String()
    province_code = fields.String()
    area_code = fields.String()
    agency = fields.String()
    group = fields.String()
    import_id = fields.Integer(allow_none=True)
    updated_at = fields.DateTime()


class ParticipantDetailSchema(ParticipantSchema):
    """A participant with their national ID (the caller typed it), results and follow-ups."""

    national_id = fields.String()
    developments = fields.List(fields.Nested(DevelopmentSchema))
    follow_ups = fields.List(fields.Nested(FollowUpSchema))


class ParticipantListSchema(Schema):
    """A page of participants."""

    items = fields.List(fields.Nested(ParticipantSchema))
    total = fields.Integer()


class DevelopmentWriteSchema(Schema):
    """A project's result for the participant (``project``: a project id of ``/projects``)."""

    project = fields.Integer(required=True, validate=validate.Range(min=1))
    result = fields.String(required=True, validate=RESULT)
    recorded_on = fields.Date(required=True)
    note = fields.String(load_default=None, allow_none=True, validate=_text(1000, lines=True))


class FollowUpWriteSchema(Schema):
    """The participant's progress for a follow-up round."""

    round = fields.String(required=True, validate=ROUND)
    progress = fields.String(required=True, validate=PROGRESS)
    recorded_on = fields.Date(required=True)
    note = fields.String(load_default=None, allow_none=True, validate=_text(1000, lines=True))


# --- projects -------------------------------------------------------------------------------------
class ProjectArgs(Schema):
    """``?kind=&agency=&province_code=&active=``."""

    kind = fields.String(validate=validate.OneOf(tuple(PROJECT_KINDS)))
    agency = fields.String(validate=AGENCY)
    province_code = fields.String(validate=PROVINCE)
    active = fields.Boolean()


class ProjectWriteSchema(Schema):
    """A new project; an agency recorder's is their agency's, a secretariat's their province's."""

    name_th = fields.String(required=True, validate=_text(300))
    kind = fields.String(load_default=None, validate=validate.OneOf(tuple(PROJECT_KINDS)))
    agency = fields.String(load_default=None, allow_none=True, validate=AGENCY)
    province_code = fields.String(load_default=None, allow_none=True, validate=PROVINCE)


# --- registration places ----------------------------------------------------------------------------
class PlaceArgs(Schema):
    """``?area_code=&province_code=&all=`` (``all``: inactive places too)."""

    area_code = fields.String(validate=AREA)
    province_code = fields.String(validate=PROVINCE)
    all = fields.Boolean(load_default=False)


class PlaceSchema(Schema):
    """A registration place."""

    id = fields.Integer()
    area_code = fields.String()
    area_name_th = fields.String()
    province_code = fields.String()
    name = fields.String()
    address = fields.String(allow_none=True)
    active = fields.Boolean()


class PlaceWriteSchema(Schema):
    """A new registration place (``area_code``: the caller's district when left out)."""

    area_code = fields.String(load_default=None, validate=AREA)
    name = fields.String(required=True, validate=_text(300))
    address = fields.String(load_default=None, allow_none=True, validate=_text(500))


class PlacePatchSchema(Schema):
    """Change a place; ``active: false`` takes it off the public page."""

    name = fields.String(validate=_text(300))
    address = fields.String(allow_none=True, validate=_text(500))
    active = fields.Boolean()


# --- intents ------------------------------------------------------------------------------------------
class IntentWriteSchema(Schema):
    """แบบย่อ: who wishes to join, which agency they would like, and where they registered."""

    national_id = NationalIdField(required=True)
    title = fields.String(load_default=None, allow_none=True, validate=_text(40))
    first_name = fields.String(required=True, validate=_text(100))
    last_name = fields.String(required=True, validate=_text(100))
    phone = fields.String(load_default=None, allow_none=True, validate=PHONE)
    agency = fields.String(load_default=None, allow_none=True, validate=AGENCY)
    place_id = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))
    registered_on = fields.Date(required=True)


class IntentSummarySchema(Schema):
    """An intent in a list (masked national ID)."""

    id = fields.Integer()
    national_id_masked = fields.String()
    title = fields.String(allow_none=True)
    first_name = fields.String()
    last_name = fields.String()
    phone = fields.String(allow_none=True)
    province_code = fields.String()
    area_code = fields.String()
    agency = fields.String(allow_none=True)
    place_id = fields.Integer(allow_none=True)
    registered_on = fields.Date()
    recorded_by = fields.String()
    recorded_at = fields.DateTime()


class IntentSchema(IntentSummarySchema):
    """A recorded intent, with the national ID the officer typed."""

    national_id = fields.String()


class IntentArgs(PageArgs):
    """``?area_code=&registered_on=``."""

    area_code = fields.String(validate=AREA)
    registered_on = fields.Date()


class IntentListSchema(Schema):
    """A page of intents (masked national IDs)."""

    items = fields.List(fields.Nested(IntentSummarySchema))
    total = fields.Integer()


# --- the public check ------------------------------------------------------------------------------
class PublicPlaceSchema(Schema):
    """A registration place of the person's district."""

    name = fields.String()
    address = fields.String(allow_none=True)
    area_name_th = fields.String()


class PublicCheckSchema(Schema):
    """The only answer of the public check."""

    participant = fields.Boolean()
    group = fields.String(allow_none=True)
    registration_places = fields.List(fields.Nested(PublicPlaceSchema))
