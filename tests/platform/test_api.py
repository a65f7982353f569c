"""Every service's HTTP basics, in process: health, OpenAPI, errors, tokens, district scoping."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from services import approval, gateway, intake, payment, reporting
from shared import auth
from shared.models import Job
from shared.testing.system import System

pytestmark = [pytest.mark.integration]
FACTORIES = {
    "intake": intake.create_app,
    "approval": approval.create_app,
    "payment": payment.create_app,
    "reporting": reporting.create_app,
    "gateway": gateway.create_app,
}
STAGES = ("intake", "approval", "payment", "reporting")


@pytest.fixture(scope="module", params=["embedded", "postgres"])
def apps(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """The five apps on migrated databases of one backend."""
    system = System(
        tmp_path_factory.mktemp(request.param),
        backend=request.param,
        extra_env={"ECASE_LOGIN_MAX_FAILURES": "3", "ECASE_ALLOW_FAULTS": "0"},
    )
    system.migrate()
    with system.environment():
        built = {
            svc: f({"DATABASE_URL": system.database_url(svc), "TESTING": True})
            for svc, f in FACTORIES.items()
        }
        from services.gateway.demo import load_demo_users

        with built["gateway"].extensions["ecase"].sessions.begin() as s:
            load_demo_users(s)
        yield {"apps": built, "system": system, "secret": system.env["ECASE_SECRET_KEY"]}
        for app in built.values():
            app.extensions["ecase"].engine.dispose()
    system.close()


def token(secret: str, role: str = "officer", district: str | None = "1008", **kw: Any) -> str:
    return auth.issue_token(
        username=f"{role}.{district}", role=role, district_code=district, secret=secret, **kw
    )[0]


def client(apps: dict[str, Any], svc: str) -> FlaskClient:
    app: Flask = apps["apps"][svc]
    return app.test_client()


def bearer(t: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {t}"}


@pytest.mark.parametrize("svc", [*STAGES, "gateway"])
def test_health_reports_database_and_broker(apps: dict[str, Any], svc: str) -> None:
    r = client(apps, svc).get(f"/api/{svc}/health")
    assert r.status_code == 200
    assert r.json == {"status": "ok", "service": svc, "db": "ok", "broker": "ok"}


@pytest.mark.parametrize("svc", [*STAGES, "gateway"])
def test_openapi_document_is_served(apps: dict[str, Any], svc: str) -> None:
    r = client(apps, svc).get(f"/api/{svc}/openapi.json")
    assert r.status_code == 200
    doc = r.json
    assert doc["openapi"].startswith("3.")
    assert f"/api/{svc}/health" in doc["paths"]
    assert "bearerAuth" in doc["components"]["securitySchemes"]


@pytest.mark.parametrize("svc", STAGES)
def test_unknown_route_is_404_json(apps: dict[str, Any], svc: str) -> None:
    r = client(apps, svc).get(f"/api/{svc}/no-such-thing", headers=bearer(token(apps["secret"])))
    assert r.status_code == 404
    assert r.json["error"]["code"] == "not_found"
    assert r.json["error"]["message"]


@pytest.mark.parametrize("svc", STAGES)
def test_invalid_json_is_400(apps: dict[str, Any], svc: str) -> None:
    r = client(apps, svc).post(
        f"/api/{svc}/ops/probe",
        data="{not json",
        content_type="application/json",
        headers=bearer(token(apps["secret"], "operator", None)),
    )
    assert r.status_code == 400
    assert "error" in r.json


@pytest.mark.parametrize("svc", STAGES)
def test_missing_field_is_400_in_thai_naming_the_field(apps: dict[str, Any], svc: str) -> None:
    r = client(apps, svc).post(
        f"/api/{svc}/ops/probe",
        json={"queue": "intake"},
        headers=bearer(token(apps["secret"], "operator", None)),
    )
    assert r.status_code == 400
    assert r.json["error"]["fields"] == {"key": "กรุณากรอกข้อมูลช่องนี้"}


@pytest.mark.parametrize("svc", STAGES)
@pytest.mark.parametrize(
    ("make_header", "code"),
    [
        (lambda secret: {}, "missing_token"),
        (lambda secret: bearer(token("x" * 40)), "invalid_token"),
        (lambda secret: bearer(token(secret)[:-3] + "abc"), "invalid_token"),
        (
            lambda secret: bearer(token(secret, now=dt.datetime.now(dt.UTC) - dt.timedelta(days=2))),
            "expired_token",
        ),
        (lambda secret: {"Authorization": "Basic b2ZmaWNlcjpwdw=="}, "invalid_token"),
    ],
    ids=["missing", "forged", "tampered", "expired", "wrong-scheme"],
)
def test_services_check_the_token_themselves(
    apps: dict[str, Any], svc: str, make_header: Callable[[str], dict[str, str]], code: str
) -> None:
    r = client(apps, svc).get(f"/api/{svc}/jobs/{svc}-x", headers=make_header(apps["secret"]))
    assert r.status_code == 401
    assert r.json["error"]["code"] == code


@pytest.mark.parametrize("svc", STAGES)
def test_district_a_cannot_read_district_b_in_any_service(apps: dict[str, Any], svc: str) -> None:
    sessions = apps["apps"][svc].extensions["ecase"].sessions
    job_id = f"{svc}-isolation-{apps['system'].backend}"
    with sessions.begin() as s:
        if s.get(Job, job_id) is None:
            s.add(Job(id=job_id, kind="test", status="done", district_code="1001", created_by="officer.1001"))
    c = client(apps, svc)
    other = c.get(f"/api/{svc}/jobs/{job_id}", headers=bearer(token(apps["secret"], "officer", "1008")))
    assert other.status_code == 404
    own = c.get(f"/api/{svc}/jobs/{job_id}", headers=bearer(token(apps["secret"], "officer", "1001")))
    assert own.status_code == 200
    assert own.json["job_id"] == job_id
    central = c.get(f"/api/{svc}/jobs/{job_id}", headers=bearer(token(apps["secret"], "central_admin", None)))
    assert central.status_code == 200


@pytest.mark.parametrize("svc", STAGES)
def test_wrong_role_is_403(apps: dict[str, Any], svc: str) -> None:
    r = client(apps, svc).get(
        f"/api/{svc}/ops/status", headers=bearer(token(apps["secret"], "officer", "1008"))
    )
    assert r.status_code == 403
    assert r.json["error"]["code"] == "wrong_role"


def test_faults_cannot_be_injected_unless_allowed(apps: dict[str, Any]) -> None:
    r = client(apps, "intake").post(
        "/api/intake/ops/probe",
        json={"key": "k", "queue": "approval", "fault": "exit"},
        headers=bearer(token(apps["secret"], "operator", None)),
    )
    assert r.status_code == 403


class TestLogin:
    def login(self, apps: dict[str, Any], username: str, password: str, ip: str = "10.1.1.1") -> Any:
        return client(apps, "gateway").post(
            "/api/auth/token",
            json={"username": username, "password": password},
            environ_base={"REMOTE_ADDR": ip},
        )

    def test_good_password_gives_a_token_services_accept(self, apps: dict[str, Any]) -> None:
        r = self.login(apps, "officer.1008", "ecase-demo-2566", ip="10.9.9.1")
        assert r.status_code == 200
        body = r.json
        assert body["token_type"] == "Bearer"
        assert body["user"] == {
            "username": "officer.1008",
            "role": "officer",
            "district_code": "1008",
            "full_name": "เจ้าหน้าที่ เขตป้อมปราบศัตรูพ่าย",
            "province_code": None,  # the welfare card measure's scopes, unset for E-Case roles
            "agency": None,
        }
        principal = auth.verify_token(body["access_token"], secret=apps["secret"])
        assert (principal.role, principal.district_code) == ("officer", "1008")
        me = client(apps, "gateway").get("/api/auth/me", headers=bearer(body["access_token"]))
        assert me.json["username"] == "officer.1008"

    def test_bad_password_is_401(self, apps: dict[str, Any]) -> None:
        r = self.login(apps, "officer.1008", "wrong-password", ip="10.9.9.2")
        assert r.status_code == 401
        assert r.json["error"]["code"] == "bad_credentials"
        assert r.json["error"]["message"] == "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง"

    def test_unknown_user_is_401_like_a_bad_password(self, apps: dict[str, Any]) -> None:
        r = self.login(apps, "nobody", "whatever-password", ip="10.9.9.3")
        assert r.status_code == 401
        assert r.json["error"]["code"] == "bad_credentials"

    def test_repeated_failures_are_throttled(self, apps: dict[str, Any]) -> None:
        statuses = [self.login(apps, "head.1008", "wrong", ip="10.9.9.4").status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 429]
        # Throttled even with the right password, for that (IP, username) only.
        assert self.login(apps, "head.1008", "ecase-demo-2566", ip="10.9.9.4").status_code == 429
        assert self.login(apps, "head.1008", "ecase-demo-2566", ip="10.9.9.5").status_code == 200
        assert self.login(apps, "finance.1008", "ecase-demo-2566", ip="10.9.9.4").status_code == 200

    def test_successful_logins_do_not_count_towards_the_limit(self, apps: dict[str, Any]) -> None:
        statuses = [
            self.login(apps, "finance.1001", "ecase-demo-2566", ip="10.9.9.6").status_code for _ in range(5)
        ]
        assert statuses == [200] * 5

    def test_login_attempts_are_audited(self, apps: dict[str, Any]) -> None:
        from sqlalchemy import select

        from shared.audit import AuditEntry, verify_chain

        self.login(apps, "operator", "nope", ip="10.9.9.7")
        sessions = apps["apps"]["gateway"].extensions["ecase"].sessions
        with sessions() as s:
            actions = s.scalars(select(AuditEntry.action).where(AuditEntry.actor == "operator")).all()
            assert "auth.login_failed" in actions
            assert verify_chain(s).ok
