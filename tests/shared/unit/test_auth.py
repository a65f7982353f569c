"""Access tokens and district scoping (shared.auth)."""

from __future__ import annotations

import base64
import datetime as dt
import json

import jwt
import pytest

from shared.auth import (
    CITY_WIDE_ROLES,
    ROLES,
    AuthError,
    Principal,
    issue_token,
    principal_from_header,
    verify_token,
)

pytestmark = pytest.mark.unit

SECRET = "test-secret-" + "x" * 40
OTHER_SECRET = "other-secret-" + "y" * 40
NOW = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(**overrides: object) -> dict[str, object]:
    iat = int(NOW.timestamp())
    claims: dict[str, object] = {
        "sub": "somchai",
        "role": "officer",
        "district": "1001",
        "iat": iat,
        "exp": iat + 3600,
        "jti": "a" * 32,
        "iss": "ecase-gateway",
        "aud": "ecase",
    }
    claims.update(overrides)
    return claims


def _sign(claims: dict[str, object], secret: str = SECRET) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


def _expect(code: str, token: str | None, *, now: dt.datetime = NOW) -> AuthError:
    with pytest.raises(AuthError) as info:
        verify_token(token, secret=SECRET, now=now)
    assert info.value.code == code
    return info.value


def test_issue_and_verify_round_trip() -> None:
    token, expires_in = issue_token(
        username="somchai", role="officer", district_code="1001", secret=SECRET, now=NOW
    )
    assert expires_in == 8 * 3600

    principal = verify_token(token, secret=SECRET, now=NOW + dt.timedelta(hours=1))

    assert principal.username == "somchai"
    assert principal.role == "officer"
    assert principal.district_code == "1001"
    assert len(principal.token_id) == 32
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == "ecase-gateway"
    assert claims["aud"] == "ecase"
    assert claims["exp"] - claims["iat"] == 8 * 3600
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_the_token_generation_travels_and_defaults_to_zero() -> None:
    token, _ = issue_token(
        username="somchai", role="officer", district_code="1001", secret=SECRET, now=NOW, token_generation=3
    )
    assert jwt.decode(token, options={"verify_signature": False})["gen"] == 3
    assert verify_token(token, secret=SECRET, now=NOW).token_generation == 3
    # Tokens from before the claim (and tokens made without one) read as generation 0.
    assert verify_token(_sign(_claims()), secret=SECRET, now=NOW).token_generation == 0
    untold, _ = issue_token(username="somchai", role="officer", district_code="1001", secret=SECRET, now=NOW)
    assert "gen" not in jwt.decode(untold, options={"verify_signature": False})


def test_each_token_has_its_own_id() -> None:
    first, _ = issue_token(username="a", role="head", district_code="1002", secret=SECRET, now=NOW)
    second, _ = issue_token(username="a", role="head", district_code="1002", secret=SECRET, now=NOW)

    assert (
        verify_token(first, secret=SECRET, now=NOW).token_id
        != verify_token(second, secret=SECRET, now=NOW).token_id
    )


def test_city_wide_role_may_have_no_district() -> None:
    token, _ = issue_token(username="admin", role="central_admin", district_code=None, secret=SECRET, now=NOW)

    principal = verify_token(token, secret=SECRET, now=NOW)

    assert principal.district_code is None
    assert principal.is_city_wide


def test_verify_uses_the_real_clock_by_default() -> None:
    token, _ = issue_token(username="somchai", role="finance", district_code="1003", secret=SECRET)

    assert verify_token(token, secret=SECRET).role == "finance"


def test_expired_token_is_refused() -> None:
    token, _ = issue_token(
        username="somchai", role="officer", district_code="1001", secret=SECRET, ttl_seconds=60, now=NOW
    )

    assert verify_token(token, secret=SECRET, now=NOW + dt.timedelta(seconds=59))
    error = _expect("expired_token", token, now=NOW + dt.timedelta(seconds=60))
    assert error.message == "โทเค็นหมดอายุ กรุณาเข้าสู่ระบบใหม่"


def test_token_issued_in_the_future_is_refused() -> None:
    token, _ = issue_token(
        username="somchai",
        role="officer",
        district_code="1001",
        secret=SECRET,
        now=NOW + dt.timedelta(seconds=1),
    )

    _expect("invalid_token", token)


def test_tampered_payload_is_refused() -> None:
    token, _ = issue_token(username="somchai", role="officer", district_code="1001", secret=SECRET, now=NOW)
    header, _payload, signature = token.split(".")
    forged = _b64(json.dumps(_claims(role="central_admin", district=None)).encode())

    error = _expect("invalid_token", f"{header}.{forged}.{signature}")
    assert error.message == "โทเค็นไม่ถูกต้อง"


def test_tampered_signature_is_refused() -> None:
    token, _ = issue_token(username="somchai", role="officer", district_code="1001", secret=SECRET, now=NOW)
    head, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]

    _expect("invalid_token", f"{head}.{payload}.{flipped}")


def test_token_signed_with_another_secret_is_refused() -> None:
    token = _sign(_claims(), secret=OTHER_SECRET)

    _expect("invalid_token", token)


def test_alg_none_is_refused() -> None:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(_claims()).encode())

    _expect("invalid_token", f"{header}.{payload}.")


def test_other_hmac_algorithm_is_refused() -> None:
    _expect("invalid_token", jwt.encode(_claims(), SECRET + "z" * 40, algorithm="HS512"))


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"role": "superuser"}, id="unknown-role"),
        pytest.param({"role": "officer", "district": None}, id="district-role-without-district"),
        pytest.param({"aud": "other-system"}, id="wrong-audience"),
        pytest.param({"aud": ["ecase", "other-system"]}, id="audience-list"),
        pytest.param({"iss": "someone-else"}, id="wrong-issuer"),
        pytest.param({"sub": ""}, id="empty-subject"),
        pytest.param({"jti": 7}, id="non-string-jti"),
        pytest.param({"exp": "soon"}, id="non-numeric-exp"),
        pytest.param({"iat": True}, id="boolean-iat"),
        pytest.param({"nbf": int(NOW.timestamp()) + 10}, id="not-before-in-future"),
        pytest.param({"gen": -1}, id="negative-generation"),
        pytest.param({"gen": "1"}, id="non-integer-generation"),
        pytest.param({"gen": True}, id="boolean-generation"),
    ],
)
def test_bad_claims_are_refused(overrides: dict[str, object]) -> None:
    _expect("invalid_token", _sign(_claims(**overrides)))


@pytest.mark.parametrize("claim", ["sub", "role", "district", "iat", "exp", "jti", "iss", "aud"])
def test_missing_claim_is_refused(claim: str) -> None:
    claims = _claims()
    del claims[claim]

    _expect("invalid_token", _sign(claims))


@pytest.mark.parametrize("garbage", ["not-a-token", "a.b.c", "....", "Bearer"])
def test_garbage_is_refused(garbage: str) -> None:
    _expect("invalid_token", garbage)


@pytest.mark.parametrize("token", [None, ""])
def test_missing_token(token: str | None) -> None:
    error = _expect("missing_token", token)

    assert error.message == "กรุณาเข้าสู่ระบบ"
    assert str(error) == "กรุณาเข้าสู่ระบบ"


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        pytest.param({"role": "root"}, "unknown role", id="unknown-role"),
        pytest.param({"district_code": None}, "needs a district", id="no-district"),
        pytest.param({"username": " "}, "username", id="blank-username"),
        pytest.param({"secret": "short"}, "at least 32 bytes", id="short-secret"),
        pytest.param({"ttl_seconds": 0}, "ttl_seconds", id="zero-ttl"),
        pytest.param({"token_generation": -1}, "token_generation", id="negative-generation"),
        pytest.param({"now": dt.datetime(2025, 3, 1)}, "timezone-aware", id="naive-now"),
    ],
)
def test_issue_refuses_bad_input(kwargs: dict[str, object], problem: str) -> None:
    arguments: dict[str, object] = {
        "username": "somchai",
        "role": "officer",
        "district_code": "1001",
        "secret": SECRET,
        "now": NOW,
    }
    arguments.update(kwargs)

    with pytest.raises(ValueError, match=problem):
        issue_token(**arguments)  # type: ignore[arg-type]


def test_verify_refuses_a_short_secret() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        verify_token("x.y.z", secret="short")


def test_auth_error_codes_are_closed() -> None:
    with pytest.raises(ValueError, match="unknown auth error code"):
        AuthError("forbidden")


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_principal_from_header(scheme: str) -> None:
    token, _ = issue_token(username="somchai", role="head", district_code="1010", secret=SECRET)

    principal = principal_from_header(f"{scheme} {token}", secret=SECRET)

    assert principal.username == "somchai"
    assert principal.district_code == "1010"


@pytest.mark.parametrize("header", [None, "", "   "])
def test_header_missing(header: str | None) -> None:
    with pytest.raises(AuthError) as info:
        principal_from_header(header, secret=SECRET)

    assert info.value.code == "missing_token"


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "Token abc", "abc"])
def test_header_malformed(header: str) -> None:
    with pytest.raises(AuthError) as info:
        principal_from_header(header, secret=SECRET)

    assert info.value.code == "invalid_token"


def test_header_with_expired_token() -> None:
    token, _ = issue_token(
        username="somchai",
        role="officer",
        district_code="1001",
        secret=SECRET,
        now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=9),
    )

    with pytest.raises(AuthError) as info:
        principal_from_header(f"Bearer {token}", secret=SECRET)

    assert info.value.code == "expired_token"


@pytest.mark.parametrize("role", [r for r in ROLES if r not in CITY_WIDE_ROLES])
def test_district_roles_see_only_their_district(role: str) -> None:
    principal = Principal(username="u", role=role, district_code="1001", token_id="t")

    assert not principal.is_city_wide
    assert principal.can_see_district("1001")
    assert not principal.can_see_district("1002")
    assert not principal.can_see_district(None)


@pytest.mark.parametrize("role", CITY_WIDE_ROLES)
def test_city_wide_roles_see_every_district(role: str) -> None:
    principal = Principal(username="u", role=role, district_code=None, token_id="t")

    assert principal.is_city_wide
    assert principal.can_see_district("1001")
    assert principal.can_see_district("1050")


def test_principal_without_district_sees_nothing() -> None:
    assert not Principal(username="u", role="officer", district_code=None, token_id="t").can_see_district(
        None
    )


def test_principal_is_immutable() -> None:
    principal = Principal(username="u", role="officer", district_code="1001", token_id="t")

    with pytest.raises(AttributeError):
        principal.role = "central_admin"  # type: ignore[misc]
