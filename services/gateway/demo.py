"""Demo users of CONTRACT.md, loaded only with the demo data (never in production)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.gateway.domain import hash_password
from services.gateway.models import User
from shared.config import env

DEMO_USERS = (
    ("officer.1008", "officer", "1008", "เจ้าหน้าที่ เขตป้อมปราบศัตรูพ่าย"),
    ("head.1008", "head", "1008", "หัวหน้าฝ่าย เขตป้อมปราบศัตรูพ่าย"),
    ("finance.1008", "finance", "1008", "เจ้าหน้าที่การเงิน เขตป้อมปราบศัตรูพ่าย"),
    ("officer.1001", "officer", "1001", "เจ้าหน้าที่ เขตพระนคร"),
    ("head.1001", "head", "1001", "หัวหน้าฝ่าย เขตพระนคร"),
    ("finance.1001", "finance", "1001", "เจ้าหน้าที่การเงิน เขตพระนคร"),
    ("central.admin", "central_admin", None, "ผู้ดูแลระบบ สำนักพัฒนาสังคม"),
    ("operator", "operator", None, "ผู้ดูแลระบบปฏิบัติการ"),
)


def demo_password() -> str:
    """``$ECASE_DEMO_PASSWORD``, default ``ecase-demo-2566``."""
    return env("DEMO_PASSWORD", "ecase-demo-2566") or "ecase-demo-2566"


def load_demo_users(session: Session) -> list[str]:
    """Create the demo users that do not exist yet; return all demo usernames."""
    existing = set(session.scalars(select(User.username)).all())
    password_hash = hash_password(demo_password())
    for username, role, district, name in DEMO_USERS:
        if username not in existing:
            session.add(
                User(
                    username=username,
                    password_hash=password_hash,
                    role=role,
                    district_code=district,
                    full_name=name,
                    is_demo=True,
                )
            )
    return [u[0] for u in DEMO_USERS]
