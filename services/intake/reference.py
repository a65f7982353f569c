"""Reference data intake loads: districts, banks and the first welfare catalogue."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from services.intake.models import Bank, District, WelfareType
from shared.banks import BANKS
from shared.districts import DISTRICTS

#: The first catalogue (issue 3 refines it).  ``seeds`` marks a ceiling the source documents
#: give; ``configured`` marks a value they do not give, which the central office must set.
WELFARE_TYPES = (
    (
        "KINDERGARTEN",
        "เงินสนับสนุนกิจกรรมทางการศึกษาระดับอนุบาล",
        "บัญชีที่ 1 ลำดับที่ 1",
        Decimal("3000.00"),
        "per_person_fy",
        "configured",
    ),
    ("CAREER", "ทุนประกอบอาชีพ", "บัญชีที่ 1 ลำดับที่ 3", Decimal("5000.00"), "per_family_fy", "seeds"),
    ("MEDICAL", "ค่าใช้จ่ายที่เกี่ยวเนื่องในการรักษาพยาบาล", None, Decimal("5000.00"), "per_person_fy", "seeds"),
    ("SCHOLARSHIP", "ทุนการศึกษา", None, Decimal("5000.00"), "per_person_fy", "configured"),
    ("ELDERLY_FUNERAL", "ค่าจัดการศพผู้สูงอายุตามประเพณี", None, Decimal("3000.00"), "per_case", "configured"),
)


def load_reference_data(session: Session) -> None:
    """Insert or refresh the reference rows (idempotent)."""
    for d in DISTRICTS:
        session.merge(District(code=d.code, name_th=d.name_th, name_en=d.name_en))
    for b in BANKS:
        session.merge(
            Bank(
                code=b.code,
                short_name=b.short_name,
                name_th=b.name_th,
                name_en=b.name_en,
                active=b.active and b.retail,
                branch_code_required=b.branch_code_required,
            )
        )
    for code, name, ref, ceiling, scope, source in WELFARE_TYPES:
        if session.get(WelfareType, code) is None:  # the central office may have changed it since
            session.add(
                WelfareType(
                    code=code,
                    name_th=name,
                    regulation_ref=ref,
                    ceiling=ceiling,
                    ceiling_scope=scope,
                    ceiling_source=source,
                    active=True,
                )
            )
