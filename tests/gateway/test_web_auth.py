"""Web pages: login, sessions, CSRF, logout, password change, security headers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from services import gateway
from services.gateway.demo import load_demo_users
from shared.testing.system import System

pytestmark = [pytest.mark.integration]
PASSWORD = "ecase-demo-2566"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    system = System(
        tmp_path_factory.mktemp("web"), backend="embedded", extra_env={"ECASE_LOGIN_MAX_FAILURES": "3"}
    )
    system.migrate(("gateway",))
    with system.environment():
        built = gateway.create_app({"DATABASE_URL": system.database_url("gateway"), "TESTING": True})
        with built.extensions["ecase"].sessions.begin() as s:
            load_demo_users(s)
        yield built
        built.extensions["ecase"].engine.dispose()
    system.close()


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the form carries a CSRF token"
    return match.group(1)


def login(client: FlaskClient, username: str, password: str = PASSWORD, ip: str = "10.2.0.1") -> Any:
    page = client.get("/login", environ_base={"REMOTE_ADDR": ip})
    token = csrf_of(page.get_data(as_text=True))
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": ip},
    )


def test_pages_need_a_login(app: Any) -> None:
    r = app.test_client().get("/")
    assert r.status_code == 302
    assert "/login" in r.headers["Location"]


def test_login_shows_the_home_page_in_thai_with_the_role(app: Any) -> None:
    c = app.test_client()
    r = login(c, "officer.1008")
    assert r.status_code == 303
    home = c.get("/").get_data(as_text=True)
    assert "หน้าหลัก" in home
    assert "สำนักงานเขตป้อมปราบศัตรูพ่าย" in home
    assert "ออกจากระบบ" in home


def test_session_cookie_is_httponly_and_samesite(app: Any) -> None:
    c = app.test_client()
    r = login(c, "head.1008")
    cookie = r.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_bad_password_is_refused_and_throttled(app: Any) -> None:
    c = app.test_client()
    statuses = [login(c, "finance.1008", "wrong", ip="10.2.0.9").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


def test_form_without_csrf_token_changes_nothing(app: Any) -> None:
    c = app.test_client()
    login(c, "officer.1001", ip="10.2.0.2")
    r = c.post("/profile", data={"full_name": "ชื่อใหม่"})
    assert r.status_code == 303
    assert "/login" in r.headers["Location"]
    assert "ชื่อใหม่" not in c.get("/profile").get_data(as_text=True)


def test_logout_ends_the_session_even_for_a_copied_cookie(app: Any) -> None:
    c = app.test_client()
    login(c, "head.1001", ip="10.2.0.3")
    stolen = c.get_cookie("ecase").value
    token = csrf_of(c.get("/").get_data(as_text=True))
    assert c.post("/logout", data={"csrf_token": token}).status_code == 303
    other = app.test_client()
    other.set_cookie("ecase", stolen)
    assert other.get("/").status_code == 302


def test_browser_session_can_call_the_api_with_csrf_header(app: Any) -> None:
    c = app.test_client()
    login(c, "central.admin", ip="10.2.0.4")
    me = c.get("/api/auth/me")
    assert me.status_code == 200
    assert me.json["username"] == "central.admin"
    # A change through the API without the CSRF header is refused.
    assert c.post("/api/ops/dead-letters/intake-1/replay").status_code == 400


def test_security_headers_on_pages(app: Any) -> None:
    r = app.test_client().get("/login")
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "object-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_password_change_ends_other_sessions(app: Any) -> None:
    first, second = app.test_client(), app.test_client()
    login(first, "finance.1001", ip="10.2.0.5")
    login(second, "finance.1001", ip="10.2.0.6")
    token = csrf_of(first.get("/password").get_data(as_text=True))
    r = first.post(
        "/password",
        data={
            "current": PASSWORD,
            "new": "a-new-password-1",
            "again": "a-new-password-1",
            "csrf_token": token,
        },
    )
    assert r.status_code == 303
    assert first.get("/").status_code == 200
    assert second.get("/").status_code == 302
    short = first.post(
        "/password",
        data={"current": "a-new-password-1", "new": "short", "again": "short", "csrf_token": token},
    )
    assert short.status_code == 400
    assert "รหัสผ่านต้องมีอย่างน้อย 8 ตัวอักษร" in short.get_data(as_text=True)


MENUS = {
    "officer.1008": {"บันทึกข้อมูลเคส", "แสดงข้อมูลเคส", "จัดทำรายการขออนุมัติเงิน", "พิมพ์รายงานขออนุมัติเงิน"},
    "head.1008": {"บันทึกข้อมูลเคส", "แสดงข้อมูลเคส", "จัดทำรายการขออนุมัติเงิน", "พิมพ์รายงานขออนุมัติเงิน"},
    "finance.1008": {"พิมพ์รายงานขออนุมัติเงิน", "จ่ายเงินประชาชน"},
    "central.admin": {
        "แสดงข้อมูลเคส",
        "พิมพ์รายงานขออนุมัติเงิน",
        "จ่ายเงินประชาชน",
        "สรุปภาพรวม",
        "ผู้ใช้และสิทธิ์",
        "ประเภทความช่วยเหลือและโครงการ",
        "งบประมาณ",
        "ระบบปฏิบัติการ",
    },
    "operator": {"ระบบปฏิบัติการ"},
}
CASE_SCREENS = {"บันทึกข้อมูลเคส", "แสดงข้อมูลเคส", "จัดทำรายการขออนุมัติเงิน"}


@pytest.mark.parametrize("username", sorted(MENUS))
def test_the_menu_shows_only_what_the_role_may_do(app: Any, username: str) -> None:
    c = app.test_client()
    login(c, username, ip=f"10.3.0.{sorted(MENUS).index(username) + 1}")
    html = c.get("/profile").get_data(as_text=True)
    nav = re.search(r'<nav class="menu">(.*?)</nav>', html, re.S)
    assert nav, "the menu is shown"
    labels = set(re.findall(r">([^<>]+)</a>", nav.group(1)))
    assert {"หน้าหลัก", "ข้อมูลผู้ใช้", "เปลี่ยนรหัสผ่าน"} <= labels
    assert MENUS[username] <= labels
    if username in ("finance.1008", "operator"):
        assert not labels & CASE_SCREENS, labels
    if username == "operator":
        assert not labels & {"จ่ายเงินประชาชน", "พิมพ์รายงานขออนุมัติเงิน"}, labels
    if username != "central.admin":
        assert not labels & {"ผู้ใช้และสิทธิ์", "งบประมาณ"}, labels
