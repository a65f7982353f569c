"""Demo users of CONTRACT.md, loaded only with the demo data (never in production)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.gateway.domain import hash_password
from services.gateway.models import User
from shared.config import env

#: (username, role, district, full name, province, agency)
DEMO_USERS: tuple[tuple[str, str, str | None, str, str | None, str | None], ...] = (
    ("officer.1008", "officer", "1008", "เจ้าหน้าที่ เขตป้อมปราบศัตรูพ่าย", None, None),
    ("head.1008", "head", "1008", "หัวหน้าฝ่าย เขตป้อมปราบศัตรูพ่าย", None, None),
    ("finance.1008", "finance", "1008", "เจ้าหน้าที่การเงิน เขตป้อมปราบศัตรูพ่าย", None, None),
    ("officer.1001", "officer", "1001", "เจ้าหน้าที่ เขตพระนคร", None, None),
    ("head.1001", "head", "1001", "หัวหน้าฝ่าย เขตพระนคร", None, None),
    ("finance.1001", "finance", "1001", "เจ้าหน้าที่การเงิน เขตพระนคร", None, None),
    ("central.admin", "central_admin", None, "ผู้ดูแลระบบ สำนักพัฒนาสังคม", None, None),
    ("operator", "operator", None, "ผู้ดูแลระบบปฏิบัติการ", None, None),
    # The state welfare card measure (issue 9): a district team, a provincial secretariat, an agency.
    ("team.1008", "district_team", "1008", "ทีม ปรจ. เขตป้อมปราบศัตรูพ่าย", None, None),
    ("secretariat.24", "provincial_secretariat", None, "ฝ่ายเลขานุการ คอจ. จังหวัดฉะเชิงเทรา", "24", None),
    ("agency.cdd", "agency_recorder", None, "ผู้บันทึกผลการพัฒนา กรมการพัฒนาชุมชน", None, "cdd"),
)


def demo_password() -> str:
    """``$ECASE_DEMO_PASSWORD``, default ``ecase-demo-2566``."""
    return env("DEMO_PASSWORD", "ecase-demo-2566") or "ecase-demo-2566"


def load_demo_users(session: Session) -> list[str]:
    """Create the demo users that do not exist yet; return all demo usernames."""
    existing = set(session.scalars(select(User.username)).all())
    password_hash = hash_password(demo_password())
    for username, role, district, name, province, agency in DEMO_USERS:
        if username not in existing:
            session.add(
                User(
                    username=username,
                    password_hash=password_hash,
                    role=role,
                    district_code=district,
                    province_code=province,
                    agency=agency,
                    full_name=name,
                    is_demo=True,
                )
            )
    return [u[0] for u in DEMO_USERS]
