"""Intake's HTTP endpoints."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from services.intake.models import Bank, District, WelfareType
from services.intake.schemas import BankSchema, DistrictSchema, WelfareTypeSchema
from shared.web import Blueprint, get_session

blp = Blueprint("intake", __name__, url_prefix="/api/intake", description="Citizens, cases and the catalogue")


@blp.route("/districts")
@blp.response(200, DistrictSchema(many=True))
def list_districts() -> Any:
    """The 50 Bangkok districts."""
    return get_session().scalars(select(District).order_by(District.code)).all()


@blp.route("/banks")
@blp.response(200, BankSchema(many=True))
def list_banks() -> Any:
    """Banks a payee may use (active banks only)."""
    return get_session().scalars(select(Bank).where(Bank.active.is_(True)).order_by(Bank.code)).all()


@blp.route("/welfare-types")
@blp.response(200, WelfareTypeSchema(many=True))
def list_welfare_types() -> Any:
    """The welfare catalogue."""
    return get_session().scalars(select(WelfareType).order_by(WelfareType.code)).all()
