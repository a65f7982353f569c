"""Reference data intake loads: districts, banks, the welfare catalogue and its programmes.

Every catalogue value records where it comes from: ``seeds`` when the source documents give it,
``configured`` when they do not and the central office must confirm or set it (docs/intake.md).
Seeding only inserts what is missing, so a change the central office made is never overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from services.intake.models import Bank, District, Programme, WelfareType
from services.intake.welfare_card.records import load_areas
from shared.banks import BANKS
from shared.districts import DISTRICTS

BOTH_DOCUMENTS = "related,financial"  # manual §3: every case uploads both PDFs


@dataclass(frozen=True)
class SeedType:
    """One welfare type of the first catalogue."""

    code: str
    name_th: str
    regulation_ref: str | None
    ceiling: Decimal | None
    ceiling_scope: str
    ceiling_source: str
    repeat_limit: int | None
    repeat_limit_source: str
    required_documents: str = BOTH_DOCUMENTS


WELFARE_TYPES = (
    # Manual §4: the approval report's reference "บัญชีที่ 1 ลำดับที่ 1"; the screenshots show
    # 3,000 baht, which is not stated as a ceiling.
    SeedType(
        "KINDERGARTEN",
        "เงินสนับสนุนกิจกรรมทางการศึกษาระดับอนุบาล",
        "บัญชีที่ 1 ลำดับที่ 1",
        Decimal("3000.00"),
        "per_person_fy",
        "configured",
        1,
        "configured",
    ),
    # Seed 000 §2.1: "ไม่เกินครอบครัวละ 5,000 บาท/ปี" (บัญชี 1 ลำดับที่ 3).
    SeedType(
        "CAREER",
        "ทุนประกอบอาชีพ",
        "บัญชีที่ 1 ลำดับที่ 3",
        Decimal("5000.00"),
        "per_family_fy",
        "seeds",
        None,
        "configured",
    ),
    # Seed 000 §4.2: "ไม่เกินครั้งละ 5,000 บาท/คน/ปี".
    SeedType(
        "MEDICAL",
        "ค่าใช้จ่ายที่เกี่ยวเนื่องในการรักษาพยาบาล",
        None,
        Decimal("5000.00"),
        "per_person_fy",
        "seeds",
        None,
        "configured",
    ),
    SeedType(
        "SCHOLARSHIP", "ทุนการศึกษา", None, Decimal("5000.00"), "per_person_fy", "configured", 1, "configured"
    ),
    SeedType(
        "ELDERLY_FUNERAL",
        "ค่าจัดการศพผู้สูงอายุตามประเพณี",
        None,
        Decimal("3000.00"),
        "per_case",
        "configured",
        1,
        "configured",
    ),
)


@dataclass(frozen=True)
class SeedProgramme:
    """A programme of the seeds."""

    code: str
    name_th: str
    welfare_type_code: str
    reference: str
    rule_code: str
    excluded_welfare_type_code: str
    excluded_fiscal_year: int


PROGRAMMES = (
    # Seed 000 §3.2.1: the COVID-19 career fund refuses anyone granted a career fund in fiscal 2564.
    SeedProgramme(
        "COVID19_CAREER",
        "โครงการสนับสนุนทุนประกอบอาชีพเพื่อช่วยเหลือเยียวยาและฟื้นฟูผู้ที่ได้รับผลกระทบจากการระบาด"
        "ของโรคติดเชื้อไวรัสโคโรนา 2019 (โควิด 19)",
        "CAREER",
        "คำสั่งกรุงเทพมหานคร ที่ 1140/2564 ลงวันที่ 7 มิถุนายน 2564; ระเบียบกรุงเทพมหานครว่าด้วยค่าใช้จ่าย"
        "ในการจัดสวัสดิการและการสงเคราะห์ (ฉบับที่ 2) พ.ศ. 2564",
        "programme_covid19_career_prior_fund",
        "CAREER",
        2564,
    ),
)


def load_reference_data(session: Session) -> None:
    """Insert or refresh the reference rows (idempotent); the welfare card measure's areas too."""
    load_areas(session)
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
    for t in WELFARE_TYPES:
        existing = session.get(WelfareType, t.code)
        if existing is None:
            session.add(
                WelfareType(
                    code=t.code,
                    name_th=t.name_th,
                    regulation_ref=t.regulation_ref,
                    ceiling=t.ceiling,
                    ceiling_scope=t.ceiling_scope,
                    ceiling_source=t.ceiling_source,
                    repeat_limit=t.repeat_limit,
                    repeat_limit_source=t.repeat_limit_source,
                    required_documents=t.required_documents,
                    active=True,
                )
            )
        elif existing.updated_by is None:
            # Rows seeded before the catalogue had repeat limits: complete them, unless the
            # central office has managed this type since.
            existing.repeat_limit = t.repeat_limit
            existing.repeat_limit_source = t.repeat_limit_source
    session.flush()
    for p in PROGRAMMES:
        if session.get(Programme, p.code) is None:
            session.add(
                Programme(
                    code=p.code,
                    name_th=p.name_th,
                    welfare_type_code=p.welfare_type_code,
                    reference=p.reference,
                    rule_code=p.rule_code,
                    excluded_welfare_type_code=p.excluded_welfare_type_code,
                    excluded_fiscal_year=p.excluded_fiscal_year,
                    source="seeds",
                    active=True,
                )
            )
