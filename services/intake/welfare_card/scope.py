"""Who may do what in the welfare card measure, and on which participants.

- ``central_admin`` (the whole country): everything — imports, results, follow-ups, places.
- ``provincial_secretariat`` (one province): import the province's lists; record results of the
  province's additional projects; add registration places; read the province's participants.
- ``agency_recorder`` (one agency, optionally one province): import the agency's lists; record its
  projects' results for its participants; read them.
- ``district_team`` (one district, เขต/อำเภอ): record follow-ups, intents and registration places;
  read the district's participants.
- ``officer``, ``head`` (one Bangkok district): record intents (``officer``); read the district's
  participants.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select

from services.intake.welfare_card.domain import Forbidden
from services.intake.welfare_card.models import Participant
from shared.auth import Principal

CENTRAL = ("central_admin",)
IMPORTERS = ("central_admin", "provincial_secretariat", "agency_recorder")
READERS = ("central_admin", "provincial_secretariat", "agency_recorder", "district_team", "officer", "head")
DEVELOPMENT_RECORDERS = ("central_admin", "provincial_secretariat", "agency_recorder")
FOLLOW_UP_RECORDERS = ("central_admin", "district_team")
PLACE_WRITERS = ("central_admin", "provincial_secretariat", "district_team")
INTENT_RECORDERS = ("officer", "district_team")
PROJECT_WRITERS = ("central_admin", "provincial_secretariat", "agency_recorder")


@dataclass(frozen=True)
class WcActor:
    """The caller as the measure's rules see it."""

    username: str
    role: str
    district_code: str | None = None
    province_code: str | None = None
    agency: str | None = None
    ip: str | None = None

    @classmethod
    def of(cls, principal: Principal, ip: str | None = None) -> WcActor:
        """From a verified token."""
        return cls(
            principal.username,
            principal.role,
            principal.district_code,
            principal.province_code,
            principal.agency,
            ip,
        )

    @property
    def is_central(self) -> bool:
        """The central office works across the country."""
        return self.role in CENTRAL

    def can_see_area(self, area_code: str, agency: str | None = None) -> bool:
        """Whether a participant (or record) of this area and agency is within the caller's scope."""
        if self.is_central:
            return True
        if self.district_code is not None:
            return area_code == self.district_code
        if self.province_code is not None and area_code[:2] != self.province_code:
            return False
        if self.role == "agency_recorder":
            return agency is not None and agency == self.agency
        return self.province_code is not None

    def can_see_import(self, province_code: str, agency: str) -> bool:
        """Whether an import of this province and agency is the caller's to see."""
        if self.is_central:
            return True
        if self.role == "provincial_secretariat":
            return province_code == self.province_code
        if self.role == "agency_recorder":
            return agency == self.agency and self.province_code in (None, province_code)
        return False

    def filter_participants(self, stmt: Select[Any]) -> Select[Any]:
        """Limit a query of participants to the caller's scope."""
        if self.is_central:
            return stmt
        if self.district_code is not None:
            return stmt.where(Participant.area_code == self.district_code)
        if self.province_code is not None:
            stmt = stmt.where(Participant.province_code == self.province_code)
        if self.role == "agency_recorder":
            stmt = stmt.where(Participant.agency == self.agency)
        elif self.province_code is None:
            stmt = stmt.where(Participant.id.is_(None))  # no scope: nothing
        return stmt


def check_import_scope(actor: WcActor, *, province_code: str, agency: str) -> None:
    """An uploader imports only their province's or agency's lists.

    :raises Forbidden: outside the caller's scope.
    """
    if actor.can_see_import(province_code, agency):
        return
    if actor.role == "agency_recorder":
        raise Forbidden("ท่านนำเข้ารายชื่อได้เฉพาะของหน่วยงานพัฒนาของท่าน", field="agency")
    raise Forbidden("ท่านนำเข้ารายชื่อได้เฉพาะจังหวัดของท่าน", field="province_code")
