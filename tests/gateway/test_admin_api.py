"""User management API of the central office: list, create, change, disable, reset; roles; audit."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from services import gateway
from services.gateway.demo import load_demo_users
from services.gateway.models import User, WebSession
from shared.audit import AuditEntry, verify_chain
from shared.testing.system import System

pytestmark = [pytest.mark.integration]
PASSWORD = "ecase-demo-2566"


@pytest.fixture(scope="module", params=["embedded", "postgres"])
def app(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Any]:
    """The gateway on both backends (PostgreSQL enforces column lengths; SQLite does not)."""
    system = System(
        tmp_path_factory.mktemp("admin"),
        backend=request.param,
        extra_env={"ECASE_LOGIN_MAX_FAILURES": "1000"},
    )
    system.migrate(("gateway",))
    with system.environment():
        # Every bearer token is checked against its user on every request (no cached verdicts).
        built = gateway.create_app(
            {"DATABASE_URL": system.database_url("gateway"), "TESTING": True, "TOKEN_CHECK_SECONDS": 0}
        )
        with built.extensions["ecase"].sessions.begin() as s:
            load_demo_users(s)
        yield built
        built.extensions["ecase"].engine.dispose()
    system.close()


def token_of(app: Any, username: str, password: str = PASSWORD) -> str:
    r = app.test_client().post("/api/auth/token", json={"username": username, "password": password})
    assert r.status_code == 200, r.json
    return str(r.json["access_token"])


@pytest.fixture(scope="module")
def admin(app: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_of(app, 'central.admin')}"}


def new_name(prefix: str = "officer") -> str:
    return f"{prefix}.{uuid.uuid4().hex[:8]}"


def create(app: Any, admin: dict[str, str], **overrides: Any) -> Any:
    body = {
        "username": new_name(),
        "full_name": "สมชาย ทดสอบ",
        "role": "officer",
        "district_code": "1001",
        "password": "a-good-password",
        **overrides,
    }
    return app.test_client().post("/api/admin/users", json=body, headers=admin)


def audit_rows(app: Any, username: str) -> list[AuditEntry]:
    with app.extensions["ecase"].sessions() as s:
        return list(
            s.scalars(
                select(AuditEntry)
                .where(
                    AuditEntry.object_type == "user",
                    AuditEntry.object_id == username,
                    AuditEntry.action.startswith("user."),
                )
                .order_by(AuditEntry.seq)
            )
        )


def web_login(client: FlaskClient, username: str, password: str) -> int:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    r = client.post("/login", data={"username": username, "password": password, "csrf_token": token.group(1)})
    return r.status_code


def test_central_admin_creates_an_officer_who_can_then_log_in(app: Any, admin: dict[str, str]) -> None:
    username = new_name()
    r = create(app, admin, username=username)
    assert r.status_code == 201, r.json
    assert r.json["role"] == "officer"
    assert r.json["district_code"] == "1001"
    assert r.json["district_name"] == "พระนคร"
    assert r.json["active"] is True
    assert "password" not in r.json
    assert "password_hash" not in r.json
    me = app.test_client().get(
        "/api/auth/me", headers={"Authorization": f"Bearer {token_of(app, username, 'a-good-password')}"}
    )
    assert me.json["district_code"] == "1001"
    [row] = audit_rows(app, username)
    assert row.action == "user.create"
    assert row.actor == "central.admin"
    assert "password" in row.fields
    assert "a-good-password" not in str(row.after)


def test_duplicate_username_is_409_and_changes_nothing(app: Any, admin: dict[str, str]) -> None:
    r = create(app, admin, username="officer.1008", full_name="คนอื่น")
    assert r.status_code == 409
    assert r.json["error"]["code"] == "username_taken"
    assert "officer.1008" in r.json["error"]["fields"]["username"]
    with app.extensions["ecase"].sessions() as s:
        assert s.scalars(select(User).where(User.username == "officer.1008")).one().full_name != "คนอื่น"


@pytest.mark.parametrize(
    ("overrides", "field", "text"),
    [
        ({"district_code": None}, "district_code", "สำนักงานเขต"),
        ({"district_code": "9999"}, "district_code", "สำนักงานเขต"),
        ({"role": "central_admin", "district_code": "1001"}, "district_code", "ไม่ต้องระบุสำนักงานเขต"),
        ({"role": "mayor"}, "role", "บทบาทต้องเป็น"),
        ({"password": "short"}, "password", "อย่างน้อย 8 ตัวอักษร"),
        ({"username": "Bad Name"}, "username", "ชื่อผู้ใช้ต้องเป็นอักษรภาษาอังกฤษตัวเล็ก"),
        ({"full_name": "   "}, "full_name", "กรุณากรอกชื่อ-นามสกุล"),
        ({"is_admin": True}, "is_admin", "ไม่รู้จักช่องข้อมูลนี้"),
    ],
)
def test_bad_input_is_400_in_thai_naming_the_field(
    app: Any, admin: dict[str, str], overrides: dict[str, Any], field: str, text: str
) -> None:
    username = new_name()
    r = create(app, admin, **{"username": username, **overrides})
    assert r.status_code == 400, r.json
    assert text in r.json["error"]["fields"][field]
    with app.extensions["ecase"].sessions() as s:
        assert s.scalars(select(User).where(User.username == username)).first() is None


def test_district_and_password_problems_are_reported_together(app: Any, admin: dict[str, str]) -> None:
    r = create(app, admin, district_code=None, password="short")
    assert r.status_code == 400
    assert set(r.json["error"]["fields"]) == {"district_code", "password"}


def test_city_wide_roles_have_no_district(app: Any, admin: dict[str, str]) -> None:
    r = create(app, admin, username=new_name("ops"), role="operator", district_code=None)
    assert r.status_code == 201
    assert r.json["district_code"] is None


@pytest.mark.parametrize("username", ["officer.1008", "head.1001", "finance.1008", "operator"])
def test_other_roles_get_403(app: Any, username: str) -> None:
    headers = {"Authorization": f"Bearer {token_of(app, username)}"}
    c = app.test_client()
    assert c.get("/api/admin/users", headers=headers).status_code == 403
    r = c.post(
        "/api/admin/users",
        json={
            "username": new_name(),
            "full_name": "x",
            "role": "officer",
            "district_code": "1008",
            "password": "a-good-password",
        },
        headers=headers,
    )
    assert r.status_code == 403
    assert r.json["error"]["code"] == "wrong_role"
    assert (
        c.patch("/api/admin/users/officer.1001", json={"active": False}, headers=headers).status_code == 403
    )
    assert (
        c.post(
            "/api/admin/users/officer.1001/password", json={"password": "x" * 10}, headers=headers
        ).status_code
        == 403
    )


def test_no_token_is_401(app: Any) -> None:
    assert app.test_client().get("/api/admin/users").status_code == 401


def test_list_filters_and_pages(app: Any, admin: dict[str, str]) -> None:
    c = app.test_client()
    everyone = c.get("/api/admin/users?per_page=500", headers=admin).json
    assert everyone["total"] >= 8
    names = [u["username"] for u in everyone["items"]]
    assert names == sorted(names)
    heads = c.get("/api/admin/users?role=head", headers=admin).json
    assert {u["username"] for u in heads["items"]} >= {"head.1001", "head.1008"}
    assert all(u["role"] == "head" for u in heads["items"])
    d1008 = c.get("/api/admin/users?district_code=1008", headers=admin).json
    assert {u["username"] for u in d1008["items"]} >= {"officer.1008", "head.1008", "finance.1008"}
    assert all(u["district_code"] == "1008" for u in d1008["items"])
    by_name = c.get("/api/admin/users", query_string={"q": "ป้อมปราบ"}, headers=admin).json
    assert {u["username"] for u in by_name["items"]} == {
        "officer.1008",
        "head.1008",
        "finance.1008",
        "team.1008",
    }
    literal = c.get("/api/admin/users", query_string={"q": "%"}, headers=admin).json
    assert literal["total"] == 0
    page2 = c.get("/api/admin/users?per_page=3&page=2", headers=admin).json
    assert page2["total"] == everyone["total"]
    assert [u["username"] for u in page2["items"]] == names[3:6]
    bad = c.get("/api/admin/users?role=mayor&district_code=12", headers=admin)
    assert bad.status_code == 400
    assert set(bad.json["error"]["fields"]) == {"role", "district_code"}


def test_disabling_ends_web_sessions_and_refuses_login(app: Any, admin: dict[str, str]) -> None:
    username = new_name()
    assert create(app, admin, username=username).status_code == 201
    browser = app.test_client()
    assert web_login(browser, username, "a-good-password") == 303
    assert browser.get("/").status_code == 200
    token = token_of(app, username, "a-good-password")

    r = app.test_client().patch(f"/api/admin/users/{username}", json={"active": False}, headers=admin)
    assert r.status_code == 200
    assert r.json["active"] is False
    assert browser.get("/").status_code == 302  # the session ended at once
    with app.extensions["ecase"].sessions() as s:
        user_id = s.scalars(select(User.id).where(User.username == username)).one()
        assert all(w.revoked for w in s.scalars(select(WebSession).where(WebSession.user_id == user_id)))
    me = app.test_client().get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401
    assert web_login(app.test_client(), username, "a-good-password") == 401
    assert (
        app.test_client()
        .post("/api/auth/token", json={"username": username, "password": "a-good-password"})
        .status_code
        == 401
    )
    assert audit_rows(app, username)[-1].action == "user.disable"

    r = app.test_client().patch(f"/api/admin/users/{username}", json={"active": True}, headers=admin)
    assert r.json["active"] is True
    assert web_login(app.test_client(), username, "a-good-password") == 303
    last = audit_rows(app, username)[-1]
    assert (last.action, last.fields, last.before, last.after) == (
        "user.enable",
        ["active"],
        {"active": False},
        {"active": True},
    )


def test_role_and_district_changes(app: Any, admin: dict[str, str]) -> None:
    username = new_name()
    assert create(app, admin, username=username).status_code == 201
    c = app.test_client()
    browser = app.test_client()
    assert web_login(browser, username, "a-good-password") == 303

    r = c.patch(f"/api/admin/users/{username}", json={"role": "head", "district_code": "1008"}, headers=admin)
    assert r.status_code == 200
    assert (r.json["role"], r.json["district_code"]) == ("head", "1008")
    assert browser.get("/").status_code == 302  # the old session carried the old role
    row = audit_rows(app, username)[-1]
    assert row.action == "user.update"
    assert row.before == {"role": "officer", "district_code": "1001"}
    assert row.after == {"role": "head", "district_code": "1008"}

    r = c.patch(f"/api/admin/users/{username}", json={"role": "central_admin"}, headers=admin)
    assert (r.json["role"], r.json["district_code"]) == ("central_admin", None)
    r = c.patch(f"/api/admin/users/{username}", json={"role": "finance"}, headers=admin)
    assert r.status_code == 400
    assert "district_code" in r.json["error"]["fields"]
    r = c.patch(f"/api/admin/users/{username}", json={"full_name": "ชื่อใหม่ ทดสอบ"}, headers=admin)
    assert r.json["full_name"] == "ชื่อใหม่ ทดสอบ"
    seq = len(audit_rows(app, username))
    r = c.patch(f"/api/admin/users/{username}", json={"full_name": "ชื่อใหม่ ทดสอบ"}, headers=admin)
    assert r.status_code == 200
    assert len(audit_rows(app, username)) == seq  # nothing changed, nothing audited
    assert c.patch("/api/admin/users/nobody.here", json={"active": False}, headers=admin).status_code == 404
    assert c.patch(f"/api/admin/users/{username}", json={"active": "maybe"}, headers=admin).status_code == 400


def test_an_admin_cannot_disable_or_demote_themselves(app: Any, admin: dict[str, str]) -> None:
    c = app.test_client()
    for change in ({"active": False}, {"role": "officer", "district_code": "1001"}):
        r = c.patch("/api/admin/users/central.admin", json=change, headers=admin)
        assert r.status_code == 409
        assert r.json["error"]["code"] == "own_account"
    assert (
        c.patch(
            "/api/admin/users/central.admin", json={"full_name": "ผู้ดูแล สำนักพัฒนาสังคม"}, headers=admin
        ).status_code
        == 200
    )


def test_a_demoted_admins_token_is_refused(app: Any, admin: dict[str, str]) -> None:
    username = new_name("admin")
    assert create(app, admin, username=username, role="central_admin", district_code=None).status_code == 201
    theirs = {"Authorization": f"Bearer {token_of(app, username, 'a-good-password')}"}
    c = app.test_client()
    assert c.get("/api/admin/users", headers=theirs).status_code == 200
    assert (
        c.patch(f"/api/admin/users/{username}", json={"role": "operator"}, headers=admin).status_code == 200
    )
    # The role change made the token stale: the gateway refuses it before the role check (403
    # ``wrong_role`` from ``_acting_admin`` would follow if it ever got that far).
    r = c.get("/api/admin/users", headers=theirs)
    assert (r.status_code, r.json["error"]["code"]) == (401, "revoked_token")


def test_password_reset(app: Any, admin: dict[str, str]) -> None:
    username = new_name()
    assert create(app, admin, username=username).status_code == 201
    browser = app.test_client()
    assert web_login(browser, username, "a-good-password") == 303
    c = app.test_client()
    r = c.post(f"/api/admin/users/{username}/password", json={"password": "short"}, headers=admin)
    assert r.status_code == 400
    assert "อย่างน้อย 8" in r.json["error"]["fields"]["password"]
    assert browser.get("/").status_code == 200  # a refused reset changes nothing
    r = c.post(f"/api/admin/users/{username}/password", json={"password": "another-password"}, headers=admin)
    assert r.status_code == 200
    assert browser.get("/").status_code == 302
    assert web_login(app.test_client(), username, "a-good-password") == 401
    assert web_login(app.test_client(), username, "another-password") == 303
    row = audit_rows(app, username)[-1]
    assert (row.action, row.fields, row.before, row.after) == (
        "user.password_reset",
        ["password"],
        None,
        None,
    )
    assert (
        c.post(
            "/api/admin/users/nobody.here/password", json={"password": "another-password"}, headers=admin
        ).status_code
        == 404
    )


def test_audit_chain_holds(app: Any) -> None:
    with app.extensions["ecase"].sessions() as s:
        assert verify_chain(s).ok


def test_the_endpoints_are_in_the_gateways_openapi(app: Any) -> None:
    spec = app.test_client().get("/api/gateway/openapi.json").json
    paths = spec["paths"]
    assert {"get", "post"} <= set(paths["/api/admin/users"])
    assert "patch" in paths["/api/admin/users/{username}"]
    assert "post" in paths["/api/admin/users/{username}/password"]
