"""The measure's MIS summary over HTTP: ``/api/reporting/welfare-card/summary`` (JSON) and ``summary.xlsx``.

Scope by role: the central office (and the operator) see all of Thailand or the province / district
they name; a provincial secretariat sees their province; a district's users (district team,
officer, head, finance) see their district; an agency recorder sees their agency, in their
province when they have one.  Naming something outside one's scope is 404, as elsewhere in
reporting (the figures of another area are not revealed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Response

from services.reporting.welfare_card import summary as wc_summary
from services.reporting.welfare_card import xlsx
from services.reporting.welfare_card.schemas import WelfareCardSummaryArgs, WelfareCardSummarySchema
from shared.auth import AGENCY_ROLES, CITY_WIDE_ROLES, PROVINCE_ROLES
from shared.db import utcnow
from shared.web import ApiError, Blueprint, current_principal, get_session

blp = Blueprint(
    "reporting_welfare_card",
    __name__,
    url_prefix="/api/reporting/welfare-card",
    description="The state welfare card measure's MIS summary (participants, development, follow-up)",
)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Scope:
    """What one summary covers."""

    province_code: str | None
    area_code: str | None
    agency: str | None

    @property
    def file_name(self) -> str:
        parts = [self.area_code or self.province_code or "all"]
        if self.agency:
            parts.append(self.agency)
        return f"welfare-card-summary-{'-'.join(parts)}.xlsx"


def scope_for(args: dict[str, Any]) -> Scope:
    """The caller's scope narrowed by what they asked for (404 outside it)."""
    p = current_principal()
    province, area, agency = args.get("province_code"), args.get("area_code"), args.get("agency")
    if area is not None and province is None:
        province = area[:2]
    if p.role in CITY_WIDE_ROLES:
        return Scope(province, area, agency)
    own_province = getattr(p, "province_code", None)
    own_agency = getattr(p, "agency", None)
    if p.district_code is not None:  # a district's users: their district only
        if area not in (None, p.district_code) or province not in (None, p.district_code[:2]):
            raise ApiError(404)
        return Scope(p.district_code[:2], p.district_code, agency)
    if p.role in PROVINCE_ROLES and own_province:
        if province not in (None, own_province):
            raise ApiError(404)
        return Scope(own_province, area, agency)
    if p.role in AGENCY_ROLES and own_agency:
        if agency not in (None, own_agency) or (own_province and province not in (None, own_province)):
            raise ApiError(404)
        return Scope(own_province or province, area, own_agency)
    raise ApiError(403, "บทบาทของท่านไม่มีสิทธิ์ดูสรุปมาตรการนี้", code="wrong_role")


def _summary(args: dict[str, Any]) -> tuple[Scope, dict[str, Any]]:
    scope = scope_for(args)
    data = wc_summary.summary(
        get_session(), province_code=scope.province_code, area_code=scope.area_code, agency=scope.agency
    )
    return scope, data


@blp.route("/summary")
@blp.arguments(WelfareCardSummaryArgs, location="query")
@blp.response(200, WelfareCardSummarySchema)
def get_summary(args: dict[str, Any]) -> Any:
    """Participants by province, district, agency, group and project; developed vs not yet; late and
    missing development records; follow-up coverage per round; daily recording counts."""
    return _summary(args)[1]


@blp.route("/summary.xlsx")
@blp.arguments(WelfareCardSummaryArgs, location="query")
@blp.doc(
    responses={
        "200": {
            "description": "The workbook",
            "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
        }
    }
)
def get_summary_xlsx(args: dict[str, Any]) -> Response:
    """The same summary as a workbook: one sheet per breakdown."""
    scope, data = _summary(args)
    response = Response(xlsx.render_summary(data, utcnow()), mimetype=XLSX)
    response.headers["Content-Disposition"] = f'attachment; filename="{scope.file_name}"'
    return response
