"""Access tokens and district scoping (reliability.md S1, S2, S5).

The welfare card measure (docs/welfare_card.md) adds three roles scoped outside Bangkok's
districts: ``agency_recorder`` (one developing agency, optionally one province),
``provincial_secretariat`` (one province) and ``district_team`` (one district of any province).
Their tokens carry ``province`` and ``agency`` claims; tokens of the other roles are unchanged.

The gateway issues short-lived HS256 tokens after login; every service verifies them itself
with the shared secret (``shared.config.secret_key()``).  Tokens also carry the user's token
generation (``gen``), a counter the gateway bumps when it disables a user, resets a password or
changes a role or scope: the gateway refuses a token whose generation is no longer the user's
before forwarding it (``services/gateway/tokens.py``).  Tokens issued before the claim existed
read as generation 0.  No Flask here: a web layer turns :class:`AuthError` into a 401 response.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

__all__ = [
    "AGENCY_ROLES",
    "AUDIENCE",
    "CITY_WIDE_ROLES",
    "DISTRICT_ROLES",
    "ISSUER",
    "PROVINCE_ROLES",
    "ROLES",
    "AuthError",
    "Principal",
    "issue_token",
    "principal_from_header",
    "verify_token",
]

ROLES = (
    "officer",
    "head",
    "finance",
    "central_admin",
    "operator",
    "agency_recorder",
    "provincial_secretariat",
    "district_team",
)
CITY_WIDE_ROLES = ("central_admin", "operator")
#: Roles that work in one district (เขต/อำเภอ): the district offices' staff and the measure's district team.
DISTRICT_ROLES = ("officer", "head", "finance", "district_team")
#: The measure's provincial secretariat (ฝ่ายเลขานุการ คอจ.): one province, no district.
PROVINCE_ROLES = ("provincial_secretariat",)
#: A developing agency's recorder: one agency, and optionally one province.
AGENCY_ROLES = ("agency_recorder",)
_PROVINCE_CODE = frozenset(f"{n:02d}" for n in range(10, 100))

ALGORITHM = "HS256"
ISSUER = "ecase-gateway"
AUDIENCE = "ecase"
DEFAULT_TTL_SECONDS = 8 * 3600
# RFC 7518 §3.2: an HS256 key must be at least as long as the hash output (256 bits).
MIN_SECRET_BYTES = 32

# "district" is required too, but may be null, which PyJWT's ``require`` option would refuse.
_REQUIRED_CLAIMS = ("sub", "role", "iat", "exp", "jti", "iss", "aud")

_MESSAGES = {
    "missing_token": "กรุณาเข้าสู่ระบบ",
    "invalid_token": "โทเค็นไม่ถูกต้อง",
    "expired_token": "โทเค็นหมดอายุ กรุณาเข้าสู่ระบบใหม่",
    # The user was disabled, or their password, role or scope changed after the token was issued.
    "revoked_token": "สิทธิ์การเข้าใช้งานถูกยกเลิก กรุณาเข้าสู่ระบบใหม่",
}


class AuthError(Exception):
    """A request cannot be authenticated; ``code`` is stable, ``message`` is shown to users (Thai)."""

    def __init__(self, code: str, message: str | None = None) -> None:
        if code not in _MESSAGES:
            raise ValueError(f"unknown auth error code {code!r}")
        self.code = code
        self.message = message or _MESSAGES[code]
        super().__init__(self.message)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: who, in which role, for which district."""

    username: str
    role: str
    district_code: str | None
    token_id: str
    province_code: str | None = None
    agency: str | None = None
    #: The user's token generation when the token was issued (0 for tokens without the claim).
    token_generation: int = 0

    @property
    def is_city_wide(self) -> bool:
        """True for roles that work across all 50 districts."""
        return self.role in CITY_WIDE_ROLES

    def can_see_district(self, code: str | None) -> bool:
        """Whether data of district ``code`` is visible to this principal."""
        if self.is_city_wide:
            return True
        if not isinstance(code, str) or not code:
            return False
        if self.district_code is not None:  # bound to one district: that one only
            return code == self.district_code
        if self.role in PROVINCE_ROLES:
            return self.province_code is not None and code[:2] == self.province_code
        if self.role in AGENCY_ROLES:  # an agency without a province works nationwide
            return self.province_code is None or code[:2] == self.province_code
        return False


def _timestamp(now: dt.datetime | None) -> int:
    if now is None:
        now = dt.datetime.now(dt.UTC)
    elif now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return int(now.timestamp())


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_secret(secret: str | bytes) -> bytes:
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    if len(key) < MIN_SECRET_BYTES:
        raise ValueError(f"the token secret must be at least {MIN_SECRET_BYTES} bytes")
    return key


def _check_identity(
    username: object,
    role: object,
    district_code: object,
    province_code: object = None,
    agency: object = None,
) -> str | None:
    """The reason the identity is unacceptable, or None."""
    if not isinstance(username, str) or not username.strip():
        return "username is required"
    if role not in ROLES:
        return f"unknown role {role!r}"
    if district_code is not None and (not isinstance(district_code, str) or not district_code):
        return "district must be a non-empty string or null"
    if province_code is not None and province_code not in _PROVINCE_CODE:
        return "province must be two digits or null"
    if agency is not None and (not isinstance(agency, str) or not agency):
        return "agency must be a non-empty string or null"
    if role in PROVINCE_ROLES:
        if province_code is None or district_code is not None:
            return f"role {role!r} needs a province and no district"
    elif role in AGENCY_ROLES:
        if agency is None or district_code is not None:
            return f"role {role!r} needs an agency and no district"
    elif district_code is None and role not in CITY_WIDE_ROLES:
        return f"role {role!r} needs a district"
    return None


def issue_token(
    *,
    username: str,
    role: str,
    district_code: str | None,
    secret: str | bytes,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    now: dt.datetime | None = None,
    province_code: str | None = None,
    agency: str | None = None,
    token_generation: int | None = None,
) -> tuple[str, int]:
    """Sign an access token for a logged-in user; returns ``(token, expires_in_seconds)``.

    ``token_generation`` is the user's current generation (``users.token_generation``); tokens
    made without one (tests, tools) read as generation 0.

    :raises ValueError: unknown role, a district role without a district (a provincial role
        without a province, an agency role without an agency), a short secret, a non-positive
        lifetime or a negative generation.
    """
    problem = _check_identity(username, role, district_code, province_code, agency)
    if problem:
        raise ValueError(problem)
    if ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be positive")
    if token_generation is not None and (not _is_int(token_generation) or token_generation < 0):
        raise ValueError("token_generation must be a non-negative integer")
    key = _check_secret(secret)
    issued_at = _timestamp(now)
    claims = {
        "sub": username,
        "role": role,
        "district": district_code,
        "iat": issued_at,
        "exp": issued_at + ttl_seconds,
        "jti": uuid.uuid4().hex,
        "iss": ISSUER,
        "aud": AUDIENCE,
    }
    # Only the measure's roles carry these claims: every other token keeps its earlier shape.
    if province_code is not None:
        claims["province"] = province_code
    if agency is not None:
        claims["agency"] = agency
    if token_generation is not None:
        claims["gen"] = token_generation
    return jwt.encode(claims, key, algorithm=ALGORITHM), ttl_seconds


def verify_token(token: str | None, *, secret: str | bytes, now: dt.datetime | None = None) -> Principal:
    """Check a token's signature, issuer, audience, lifetime and claims; return its principal.

    :raises AuthError: ``missing_token``, ``invalid_token`` or ``expired_token``.
    :raises ValueError: the secret is too short (a configuration error, not the caller's).
    """
    key = _check_secret(secret)
    if not token:
        raise AuthError("missing_token")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],  # a fixed list: "none" and algorithm confusion are refused
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=0,
            options={
                "require": list(_REQUIRED_CLAIMS),
                "strict_aud": True,
                # Times are checked below against ``now`` so that tests can move the clock.
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.PyJWTError as exc:
        raise AuthError("invalid_token") from exc

    if "district" not in claims:
        raise AuthError("invalid_token")
    exp, iat, nbf = claims["exp"], claims["iat"], claims.get("nbf")
    if not _is_int(exp) or not _is_int(iat) or (nbf is not None and not _is_int(nbf)):
        raise AuthError("invalid_token")
    current = _timestamp(now)
    if iat > current or (nbf is not None and nbf > current) or exp <= iat:
        raise AuthError("invalid_token")
    if current >= exp:
        raise AuthError("expired_token")

    username, role, district = claims["sub"], claims["role"], claims["district"]
    province, agency = claims.get("province"), claims.get("agency")
    jti, generation = claims["jti"], claims.get("gen", 0)
    if _check_identity(username, role, district, province, agency) or not isinstance(jti, str) or not jti:
        raise AuthError("invalid_token")
    if not _is_int(generation) or generation < 0:
        raise AuthError("invalid_token")
    return Principal(
        username=username,
        role=role,
        district_code=district,
        token_id=jti,
        province_code=province,
        agency=agency,
        token_generation=generation,
    )


def principal_from_header(authorization_header: str | None, *, secret: str | bytes) -> Principal:
    """Verify an ``Authorization: Bearer <token>`` header value and return its principal.

    :raises AuthError: ``missing_token`` without a header, ``invalid_token`` for another scheme
        or a malformed value, or whatever :func:`verify_token` raises.
    """
    if authorization_header is None or not authorization_header.strip():
        raise AuthError("missing_token")
    parts = authorization_header.split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        raise AuthError("invalid_token")
    return verify_token(parts[1], secret=secret)
