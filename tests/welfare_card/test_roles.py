"""The welfare card measure's roles: tokens, scopes, and users created and logged in at the gateway."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from services import gateway
from services.gateway.demo import load_demo_users
from services.gateway.domain import scope_problems
from shared.auth import AuthError, Principal, issue_token, verify_token
from shared.testing.system import System

SECRET = "s" * 40


class TestTokens:
    pytestmark: ClassVar = [pytest.mark.unit]

    def test_agency_recorder_carries_agency_and_optional_province(self) -> None:
        token, _ = issue_token(
            username="baac.24",
            role="agency_recorder",
            district_code=None,
            secret=SECRET,
            province_code="24",
            agency="baac",
        )
        p = verify_token(token, secret=SECRET)
        assert (p.role, p.province_code, p.agency, p.district_code) == ("agency_recorder", "24", "baac", None)
        assert p.can_see_district("2401")
        assert not p.can_see_district("1001")
        nationwide = Principal("u", "agency_recorder", None, "t", province_code=None, agency="gsb")
        assert nationwide.can_see_district("1001")
        assert nationwide.can_see_district("9601")

    def test_provincial_secretariat_sees_its_province(self) -> None:
        token, _ = issue_token(
            username="sec.34",
            role="provincial_secretariat",
            district_code=None,
            secret=SECRET,
            province_code="34",
        )
        p = verify_token(token, secret=SECRET)
        assert p.can_see_district("3401")
        assert p.can_see_district("34")
        assert not p.can_see_district("2401")
        assert not p.can_see_district(None)

    def test_district_team_sees_its_district_anywhere_in_thailand(self) -> None:
        token, _ = issue_token(
            username="team.2402", role="district_team", district_code="2402", secret=SECRET
        )
        p = verify_token(token, secret=SECRET)
        assert p.can_see_district("2402")
        assert not p.can_see_district("2401")

    def test_older_roles_tokens_keep_their_shape(self) -> None:
        import jwt

        token, _ = issue_token(username="officer.1008", role="officer", district_code="1008", secret=SECRET)
        claims = jwt.decode(token, options={"verify_signature": False})
        assert "province" not in claims
        assert "agency" not in claims
        assert verify_token(token, secret=SECRET).province_code is None

    @pytest.mark.parametrize(
        ("role", "district", "province", "agency"),
        [
            ("provincial_secretariat", None, None, None),  # no province
            ("provincial_secretariat", "3401", "34", None),  # a district too
            ("agency_recorder", None, "24", None),  # no agency
            ("agency_recorder", "2401", None, "baac"),  # a district too
            ("district_team", None, None, None),  # no district
            ("officer", "1008", "1", None),  # malformed province
        ],
    )
    def test_impossible_scopes_are_refused(
        self, role: str, district: str | None, province: str | None, agency: str | None
    ) -> None:
        with pytest.raises(ValueError):
            issue_token(
                username="u",
                role=role,
                district_code=district,
                secret=SECRET,
                province_code=province,
                agency=agency,
            )

    def test_a_forged_scope_claim_is_refused(self) -> None:
        import jwt

        token, _ = issue_token(
            username="sec",
            role="provincial_secretariat",
            district_code=None,
            secret=SECRET,
            province_code="34",
        )
        claims = jwt.decode(token, options={"verify_signature": False})
        claims["province"] = "999"
        forged = jwt.encode(claims, SECRET, algorithm="HS256")
        with pytest.raises(AuthError):
            verify_token(forged, secret=SECRET)

    def test_gateway_scope_rules(self) -> None:
        assert scope_problems("district_team", "2401", None, None) == {}
        assert "district_code" in scope_problems("district_team", "9999", None, None)
        assert "district_code" in scope_problems("officer", "2401", None, None)  # officers are Bangkok's
        assert scope_problems("provincial_secretariat", None, "24", None) == {}
        assert "province_code" in scope_problems("provincial_secretariat", None, "99", None)
        assert "agency" in scope_problems("agency_recorder", None, None, "xyz")
        assert "agency" in scope_problems("officer", "1008", None, "baac")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    system = System(tmp_path_factory.mktemp("roles"), backend="embedded")
    system.migrate(("gateway",))
    with system.environment():
        built = gateway.create_app({"DATABASE_URL": system.database_url("gateway"), "TESTING": True})
        with built.extensions["ecase"].sessions.begin() as s:
            load_demo_users(s)
        yield built
        built.extensions["ecase"].engine.dispose()
    system.close()


def _login(app: Any, username: str, password: str) -> Any:
    return app.test_client().post("/api/auth/token", json={"username": username, "password": password})


@pytest.mark.integration
@pytest.mark.parametrize(
    ("role", "scope"),
    [
        ("agency_recorder", {"agency": "cdd", "province_code": "24"}),
        ("agency_recorder", {"agency": "gsb"}),
        ("provincial_secretariat", {"province_code": "24"}),
        ("district_team", {"district_code": "2401"}),
    ],
)
def test_admin_creates_measure_users_who_log_in_with_their_scope(
    app: Any, role: str, scope: dict[str, str]
) -> None:
    admin = {
        "Authorization": f"Bearer {_login(app, 'central.admin', 'ecase-demo-2566').json['access_token']}"
    }
    username = f"wc.{uuid.uuid4().hex[:8]}"
    body = {
        "username": username,
        "full_name": "ทดสอบ มาตรการ",
        "role": role,
        "password": "a-good-password",
        **scope,
    }
    r = app.test_client().post("/api/admin/users", json=body, headers=admin)
    assert r.status_code == 201, r.json
    for key, value in scope.items():
        assert r.json[key] == value
    r = _login(app, username, "a-good-password")
    assert r.status_code == 200, r.json
    p = verify_token(r.json["access_token"], secret=app.config["SECRET_KEY"])
    assert p.role == role
    assert (p.district_code, p.province_code, p.agency) == (
        scope.get("district_code"),
        scope.get("province_code"),
        scope.get("agency"),
    )


@pytest.mark.integration
def test_admin_refuses_a_scope_that_does_not_fit_the_role(app: Any) -> None:
    admin = {
        "Authorization": f"Bearer {_login(app, 'central.admin', 'ecase-demo-2566').json['access_token']}"
    }
    body = {
        "username": f"wc.{uuid.uuid4().hex[:8]}",
        "full_name": "ทดสอบ",
        "role": "provincial_secretariat",
        "password": "a-good-password",
        "district_code": "1001",
    }
    r = app.test_client().post("/api/admin/users", json=body, headers=admin)
    assert r.status_code == 400
    assert set(r.json["error"]["fields"]) == {"district_code", "province_code"}
    # changing an officer into an agency recorder clears the district and needs an agency
    name = f"wc.{uuid.uuid4().hex[:8]}"
    r = app.test_client().post(
        "/api/admin/users",
        json={
            "username": name,
            "full_name": "ทดสอบ",
            "role": "officer",
            "district_code": "1001",
            "password": "a-good-password",
        },
        headers=admin,
    )
    assert r.status_code == 201
    r = app.test_client().patch(f"/api/admin/users/{name}", json={"role": "agency_recorder"}, headers=admin)
    assert r.status_code == 400
    assert "agency" in r.json["error"]["fields"]
    r = app.test_client().patch(
        f"/api/admin/users/{name}", json={"role": "agency_recorder", "agency": "mol"}, headers=admin
    )
    assert r.status_code == 200, r.json
    assert (r.json["district_code"], r.json["agency"], r.json["agency_name"]) == (
        None,
        "mol",
        "กระทรวงแรงงาน",
    )
