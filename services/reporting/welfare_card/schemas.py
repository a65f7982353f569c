"""HTTP schemas of the measure's summary: the query arguments and the answer (also the OpenAPI document)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.areas import get_area, get_province
from shared.welfare_card import AGENCY_CODES

PROVINCE_MESSAGE = "รหัสจังหวัดต้องเป็นตัวเลข 2 หลัก เช่น 24"
AREA_MESSAGE = "รหัสเขต/อำเภอต้องเป็นตัวเลข 4 หลัก เช่น 2401"
AGENCY_MESSAGE = "ไม่รู้จักหน่วยงานพัฒนานี้ (moac, mol, moc, cdd, baac, gsb)"


class WelfareCardSummaryArgs(Schema):
    """``?province_code=&area_code=&agency=`` (each optional; the caller's scope applies first)."""

    province_code = fields.String(
        load_default=None, validate=validate.Regexp(r"^[0-9]{2}$", error=PROVINCE_MESSAGE)
    )
    area_code = fields.String(load_default=None, validate=validate.Regexp(r"^[0-9]{4}$", error=AREA_MESSAGE))
    agency = fields.String(load_default=None, validate=validate.OneOf(AGENCY_CODES, error=AGENCY_MESSAGE))

    @validates_schema
    def _known(self, data: dict[str, Any], **_kw: Any) -> None:
        province, area = data.get("province_code"), data.get("area_code")
        if province is not None and get_province(province) is None:
            raise ValidationError("ไม่พบจังหวัดรหัสนี้", "province_code")
        if area is not None and get_area(area) is None:
            raise ValidationError("ไม่พบเขต/อำเภอรหัสนี้", "area_code")
        if province is not None and area is not None and area[:2] != province:
            raise ValidationError("เขต/อำเภอนี้ไม่อยู่ในจังหวัดที่เลือก", "area_code")


class WelfareCardMeasuresSchema(Schema):
    """The figures of every breakdown row."""

    participants = fields.Integer(metadata={"description": "participants on the list (latest import)"})
    developed = fields.Integer(metadata={"description": "participants with a completed development result"})
    not_developed = fields.Integer()
    recorded = fields.Integer(metadata={"description": "participants with at least one development record"})
    not_recorded = fields.Integer()
    development_records = fields.Integer()
    late_records = fields.Integer(metadata={"description": "records that reached the system after record_by"})
    missing_records = fields.Integer(
        metadata={"description": "participants without any record once the recording deadline has passed"}
    )
    intents = fields.Integer(metadata={"description": "intent registrations (แบบย่อ)"})
    developed_percent = fields.String(allow_none=True)
    recorded_percent = fields.String(allow_none=True)


class WelfareCardByProvinceSchema(WelfareCardMeasuresSchema):
    province_code = fields.String()
    province_name = fields.String()


class WelfareCardByAreaSchema(WelfareCardByProvinceSchema):
    area_code = fields.String()
    area_name = fields.String()


class WelfareCardByAgencySchema(WelfareCardMeasuresSchema):
    agency = fields.String()
    agency_name = fields.String()


class WelfareCardByGroupSchema(WelfareCardMeasuresSchema):
    group = fields.String()
    group_name = fields.String()


class WelfareCardByProjectSchema(Schema):
    project_id = fields.Integer()
    project_name = fields.String()
    project_kind = fields.String()
    project_kind_name = fields.String()
    project_agency = fields.String(allow_none=True)
    project_agency_name = fields.String()
    project_province_code = fields.String(allow_none=True)
    project_province_name = fields.String()
    records = fields.Integer()
    late_records = fields.Integer()
    result_completed = fields.Integer()
    result_not_completed = fields.Integer()
    result_declined = fields.Integer()
    result_unreachable = fields.Integer()


class WelfareCardByResultSchema(Schema):
    result = fields.String()
    result_name = fields.String()
    records = fields.Integer()
    late_records = fields.Integer()


class WelfareCardDeadlineSchema(Schema):
    phase = fields.String()
    name = fields.String()
    due = fields.Date(allow_none=True)
    record_by = fields.Date(allow_none=True)
    passed = fields.Boolean()


class WelfareCardProgressSchema(Schema):
    progress = fields.String()
    progress_name = fields.String()
    participants = fields.Integer()


class WelfareCardFollowUpAreaSchema(Schema):
    province_code = fields.String()
    province_name = fields.String()
    area_code = fields.String()
    area_name = fields.String()
    participants = fields.Integer()
    followed_up = fields.Integer()
    not_followed_up = fields.Integer()
    late = fields.Integer()
    missing = fields.Integer()
    coverage_percent = fields.String(allow_none=True)


class WelfareCardFollowUpRoundSchema(Schema):
    round = fields.String(metadata={"description": "ISO year-month of the round, e.g. 2019-06"})
    round_name = fields.String()
    due = fields.Date(allow_none=True)
    record_by = fields.Date(allow_none=True)
    passed = fields.Boolean()
    participants = fields.Integer()
    followed_up = fields.Integer()
    not_followed_up = fields.Integer()
    late = fields.Integer()
    missing = fields.Integer()
    coverage_percent = fields.String(allow_none=True)
    by_progress = fields.List(fields.Nested(WelfareCardProgressSchema))
    by_area = fields.List(fields.Nested(WelfareCardFollowUpAreaSchema))


class WelfareCardRoundDeadlineSchema(Schema):
    round = fields.String()
    round_name = fields.String()
    due = fields.Date(allow_none=True)
    record_by = fields.Date(allow_none=True)
    passed = fields.Boolean()


class WelfareCardDeadlinesSchema(Schema):
    development = fields.Nested(WelfareCardDeadlineSchema)
    follow_up_rounds = fields.List(fields.Nested(WelfareCardRoundDeadlineSchema))


class WelfareCardDailySchema(Schema):
    date = fields.Date()
    participants = fields.Integer(metadata={"description": "net change of the participants list that day"})
    developments = fields.Integer()
    follow_ups = fields.Integer()
    intents = fields.Integer()


class WelfareCardDailyAgencySchema(WelfareCardDailySchema):
    agency = fields.String()
    agency_name = fields.String()


class WelfareCardSummarySchema(Schema):
    """The measure's MIS summary."""

    province_code = fields.String(allow_none=True)
    province_name = fields.String(allow_none=True)
    area_code = fields.String(allow_none=True)
    area_name = fields.String(allow_none=True)
    agency = fields.String(allow_none=True)
    agency_name = fields.String(allow_none=True)
    as_of = fields.Date()
    deadlines = fields.Nested(WelfareCardDeadlinesSchema)
    totals = fields.Nested(WelfareCardMeasuresSchema)
    by_province = fields.List(fields.Nested(WelfareCardByProvinceSchema))
    by_area = fields.List(fields.Nested(WelfareCardByAreaSchema))
    by_agency = fields.List(fields.Nested(WelfareCardByAgencySchema))
    by_group = fields.List(fields.Nested(WelfareCardByGroupSchema))
    by_project = fields.List(fields.Nested(WelfareCardByProjectSchema))
    by_result = fields.List(fields.Nested(WelfareCardByResultSchema))
    follow_up_rounds = fields.List(fields.Nested(WelfareCardFollowUpRoundSchema))
    daily = fields.List(fields.Nested(WelfareCardDailySchema))
    daily_by_agency = fields.List(fields.Nested(WelfareCardDailyAgencySchema))
