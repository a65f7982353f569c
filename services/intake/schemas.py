"""Intake's HTTP schemas."""

from __future__ import annotations

from marshmallow import Schema, fields


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


class WelfareTypeSchema(Schema):
    """A welfare type of the catalogue."""

    code = fields.String()
    name_th = fields.String()
    regulation_ref = fields.String(allow_none=True)
    ceiling = fields.Decimal(places=2, as_string=True, allow_none=True)
    ceiling_scope = fields.String()
    active = fields.Boolean()
