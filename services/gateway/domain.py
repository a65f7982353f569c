"""Users and passwords: rules without Flask or a database session."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shared.auth import CITY_WIDE_ROLES, ROLES
from shared.districts import get_district
from shared.errors import ValidationError

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
    if not district_code or get_district(district_code) is None:
        raise ValidationError("กรุณาระบุสำนักงานเขตให้ถูกต้อง", field="district_code")
    return district_code
