"""Users and passwords: rules without Flask or a database session."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shared import areas
from shared.auth import AGENCY_ROLES, CITY_WIDE_ROLES, PROVINCE_ROLES, ROLES
from shared.districts import get_district
from shared.errors import ValidationError
from shared.welfare_card import AGENCY_CODES

_hasher = PasswordHasher()  # argon2id with the library's recommended parameters
# A hash to verify against when the user does not exist, so timing does not reveal names.
_DUMMY_HASH = _hasher.hash("not-a-real-password-for-timing")

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    check_password_rules(password)
    return _hasher.hash(password)


def check_password_rules(password: str) -> None:
    """Length rules of ASVS 6.2 (no composition rules)."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"รหัสผ่านต้องมีอย่างน้อย {MIN_PASSWORD_LENGTH} ตัวอักษร", field="password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationError(f"รหัสผ่านยาวได้ไม่เกิน {MAX_PASSWORD_LENGTH} ตัวอักษร", field="password")


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; always spends the same work, even for unknown users."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def check_role_and_district(role: str, district_code: str | None) -> str | None:
    """Validate a user's role and district; city-wide roles have no district."""
    if role not in ROLES:
        raise ValidationError("บทบาทไม่ถูกต้อง", field="role")
    if role in CITY_WIDE_ROLES:
        return None
    if role == "district_team":  # the welfare card measure's district team: any district of Thailand
        if not district_code or areas.get_area(district_code) is None:
            raise ValidationError("กรุณาระบุรหัสเขต/อำเภอ 4 หลักให้ถูกต้อง", field="district_code")
        return district_code
    if role in PROVINCE_ROLES or role in AGENCY_ROLES:
        return None
    if not district_code or get_district(district_code) is None:
        raise ValidationError("กรุณาระบุสำนักงานเขตให้ถูกต้อง", field="district_code")
    return district_code


NOT_FOR_ROLE = "บทบาทนี้ไม่ต้องระบุช่องนี้"


def scope_problems(
    role: str, district_code: str | None, province_code: str | None, agency: str | None
) -> dict[str, str]:
    """What is wrong with a user's district, province and agency for ``role`` (field -> Thai message).

    District roles name a district; the provincial secretariat a province; an agency recorder an
    agency and optionally a province; city-wide roles none of them.
    """
    problems: dict[str, str] = {}
    try:
        check_role_and_district(role, district_code)
    except ValidationError as exc:
        problems[exc.field or "district_code"] = exc.message
    if role not in ROLES:
        return problems
    takes_district = role not in CITY_WIDE_ROLES and role not in PROVINCE_ROLES and role not in AGENCY_ROLES
    if district_code and not takes_district and role not in CITY_WIDE_ROLES:
        problems["district_code"] = NOT_FOR_ROLE
    if role in PROVINCE_ROLES or role in AGENCY_ROLES:
        if province_code and areas.get_province(province_code) is None:
            problems["province_code"] = "ไม่พบจังหวัดรหัสนี้ (รหัสจังหวัด 2 หลัก เช่น 24)"
        elif not province_code and role in PROVINCE_ROLES:
            problems["province_code"] = "กรุณาระบุจังหวัด"
    elif province_code:
        problems["province_code"] = NOT_FOR_ROLE
    if role in AGENCY_ROLES:
        if not agency:
            problems["agency"] = "กรุณาระบุหน่วยงานพัฒนา"
        elif agency not in AGENCY_CODES:
            problems["agency"] = "หน่วยงานพัฒนาต้องเป็นค่าใดค่าหนึ่งต่อไปนี้: " + ", ".join(AGENCY_CODES)
    elif agency:
        problems["agency"] = NOT_FOR_ROLE
    return problems
