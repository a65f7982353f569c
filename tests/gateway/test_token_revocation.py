"""Bearer tokens of a disabled, reset or re-scoped user stop at the gateway (services/gateway/tokens.py).

The gateway runs in process in front of a stub intake that records what reaches it; the live
system is in ``test_token_revocation_live.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from services import gateway
from services.gateway.demo import load_demo_users
from services.gateway.models import User, WebSession
from services.gateway.tokens import TokenCheck
from shared import auth
from shared.testing.system import System
from shared.web import ApiError

PASSWORD = "ecase-demo-2566"
REVOKED = {"error": {"code": "revoked_token", "message": "สิทธิ์การเข้าใช้งานถูกยกเลิก กรุณาเข้าสู่ระบบใหม่"}}
SECRET = "s" * 40


# --- the check itself, with a clock the test moves -----------------------------------------------
class Users:
    """A fake users table for :class:`TokenCheck`, counting reads."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[int, bool]] = {"officer.1008": (0, True), "head.1008": (0, True)}
        self.reads = 0

    def __call__(self, username: str) -> tuple[int, bool] | None:
        self.reads += 1
        return self.rows.get(username)


def bearer(username: str = "officer.1008", role: str = "officer", **kw: Any) -> str:
    return (
        "Bearer "
        + auth.issue_token(username=username, role=role, district_code="1008", secret=SECRET, **kw)[0]
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def refused(check: TokenCheck, header: str) -> bool:
    """Whether the check refuses the header; a refusal must be the documented 401."""
    error: ApiError | None = None
    try:
        check.check(header)
    except ApiError as exc:
        error = exc
    if error is None:
        return False
    assert (error.code, error.body) == (401, REVOKED)
    return True


@pytest.mark.unit
class TestTokenCheck:
    def test_a_warm_token_costs_no_read_and_a_change_shows_after_the_ttl(self) -> None:
        users, clock = Users(), Clock()
        check = TokenCheck(users, secret=SECRET, ttl=5, clock=clock)
        token = bearer(token_generation=0)
        assert not refused(check, token)
        for _ in range(100):
            assert not refused(check, token)
        assert users.reads == 1
        users.rows["officer.1008"] = (1, True)  # the central office reset the password
        clock.now += 4.9
        assert not refused(check, token)  # within the bound the cached verdict stands
        clock.now += 0.2
        assert refused(check, token)
        assert users.reads == 2
        clock.now += 1
        assert refused(check, token)  # the refusal is cached too
        assert users.reads == 2

    def test_disabled_stale_and_current_tokens(self) -> None:
        users = Users()
        check = TokenCheck(users, secret=SECRET, ttl=0)
        users.rows["officer.1008"] = (3, True)
        assert not refused(check, bearer(token_generation=3))
        assert refused(check, bearer(token_generation=2))
        assert refused(check, bearer(token_generation=4))  # not issued for this generation either
        users.rows["officer.1008"] = (3, False)
        assert refused(check, bearer(token_generation=3))  # a disabled user's every token
        assert not refused(check, bearer("head.1008", "head"))  # other users are not affected
        assert users.reads == 5  # ttl 0: every request reads

    def test_a_token_without_the_claim_is_generation_zero(self) -> None:
        users = Users()
        check = TokenCheck(users, secret=SECRET, ttl=0)
        old = bearer()  # issued before tokens carried "gen"
        assert "gen" not in jwt.decode(old.split()[1], options={"verify_signature": False})
        assert not refused(check, old)
        users.rows["officer.1008"] = (1, True)
        assert refused(check, old)

    def test_what_is_not_the_gateways_to_judge_is_passed_on_without_a_read(self) -> None:
        users, clock = Users(), Clock()
        check = TokenCheck(users, secret=SECRET, ttl=5, clock=clock)
        expired = (
            "Bearer "
            + auth.issue_token(
                username="officer.1008",
                role="officer",
                district_code="1008",
                secret=SECRET,
                ttl_seconds=1,
                now=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
            )[0]
        )
        forged = bearer().replace("Bearer ", "Bearer x")
        other_secret = (
            "Bearer "
            + auth.issue_token(
                username="officer.1008", role="officer", district_code="1008", secret="o" * 40
            )[0]
        )
        for header in ("Basic b2ZmaWNlcjpwdw==", "Bearer", "Bearer not.a.jwt", expired, forged, other_secret):
            assert not refused(check, header)
        assert users.reads == 0
        assert check.verdicts == {}  # junk does not crowd out real verdicts
        # Signed with the secret for a user the gateway does not have: nothing to revoke.
        assert not refused(check, bearer("officer.1042"))
        assert users.reads == 1

    def test_the_cache_is_bounded(self) -> None:
        users = Users()
        check = TokenCheck(users, secret=SECRET, ttl=60, max_entries=3)
        headers = [bearer(token_generation=0) for _ in range(7)]
        for header in headers:
            check.check(header)
        assert 1 <= len(check.verdicts) <= 3
        assert users.reads == 7


# --- the gateway, in front of a stub intake ----------------------------------------------------------
class Seen:
    """What reached the stub intake."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, str | None]] = []


def _stub_handler(seen: Seen) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            seen.requests.append((self.command, self.path, self.headers.get("Authorization")))
            body = json.dumps({"reached": "intake"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PATCH = _answer  # http.server's names

        def log_message(self, *args: Any) -> None:  # quiet
            return

    return Handler


@pytest.fixture(scope="module")
def intake() -> Iterator[tuple[str, Seen]]:
    seen = Seen()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _stub_handler(seen))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module", params=["embedded", "postgres"])
def app(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest, intake: tuple[str, Seen]
) -> Iterator[Any]:
    """The gateway on both backends, checking every request (``TOKEN_CHECK_SECONDS`` 0)."""
    system = System(
        tmp_path_factory.mktemp("revocation"),
        backend=request.param,
        extra_env={"ECASE_LOGIN_MAX_FAILURES": "1000", "ECASE_INTAKE_URL": intake[0]},
    )
    system.migrate(("gateway",))
    with system.environment():
        built = gateway.create_app(
            {"DATABASE_URL": system.database_url("gateway"), "TESTING": True, "TOKEN_CHECK_SECONDS": 0}
        )
        with built.extensions["ecase"].sessions.begin() as s:
            load_demo_users(s)
        yield built
        built.extensions["ecase"].engine.dispose()
    system.close()


@pytest.fixture(scope="module")
def admin(app: Any) -> dict[str, str]:
    return headers_of(app, "central.admin")


def headers_of(app: Any, username: str, password: str = PASSWORD) -> dict[str, str]:
    r = app.test_client().post("/api/auth/token", json={"username": username, "password": password})
    assert r.status_code == 200, r.json
    return {"Authorization": f"Bearer {r.json['access_token']}"}


def new_user(app: Any, admin: dict[str, str], **overrides: Any) -> str:
    username = f"officer.{uuid.uuid4().hex[:8]}"
    body = {
        "username": username,
        "full_name": "สมชาย ทดสอบ",
        "role": "officer",
        "district_code": "1001",
        "password": "a-good-password",
        **overrides,
    }
    r = app.test_client().post("/api/admin/users", json=body, headers=admin)
    assert r.status_code == 201, r.json
    return username


def forwarded(app: Any, headers: dict[str, str], intake: tuple[str, Seen]) -> tuple[Any, bool]:
    """GET a stage path through the gateway: the answer, and whether the request reached intake."""
    marker = uuid.uuid4().hex
    r = app.test_client().get(f"/api/intake/cases?marker={marker}", headers=headers)
    return r, any(marker in path for _, path, _ in intake[1].requests)


def works(app: Any, headers: dict[str, str], intake: tuple[str, Seen]) -> bool:
    """Whether the token gets through the gateway; a refusal is the revoked 401 and never reaches intake."""
    r, reached = forwarded(app, headers, intake)
    assert r.status_code in (200, 401), r.json
    if r.status_code == 401:
        assert r.json == REVOKED
        assert not reached
        return False
    assert reached
    return True


@pytest.mark.integration
def test_a_disabled_users_token_is_refused_and_a_re_enabled_user_needs_a_new_one(
    app: Any, admin: dict[str, str], intake: tuple[str, Seen]
) -> None:
    username = new_user(app, admin)
    theirs = headers_of(app, username, "a-good-password")
    others = headers_of(app, "officer.1008")
    assert works(app, theirs, intake)

    r = app.test_client().patch(f"/api/admin/users/{username}", json={"active": False}, headers=admin)
    assert r.status_code == 200
    assert not works(app, theirs, intake)
    # The gateway's own endpoints that take a token refuse it the same way.
    for path in ("/api/auth/me", f"/api/jobs/intake-{uuid.uuid4().hex}"):
        r = app.test_client().get(path, headers=theirs)
        assert (r.status_code, r.json) == (401, REVOKED), path
    assert works(app, others, intake)  # other users are not affected
    assert works(app, admin, intake)

    r = app.test_client().patch(f"/api/admin/users/{username}", json={"active": True}, headers=admin)
    assert r.json["active"] is True
    assert not works(app, theirs, intake)  # enabling again does not bring old tokens back
    assert works(app, headers_of(app, username, "a-good-password"), intake)


@pytest.mark.integration
def test_a_password_reset_invalidates_tokens(
    app: Any, admin: dict[str, str], intake: tuple[str, Seen]
) -> None:
    username = new_user(app, admin)
    theirs = headers_of(app, username, "a-good-password")
    others = headers_of(app, "officer.1001")
    assert works(app, theirs, intake)
    r = app.test_client().post(
        f"/api/admin/users/{username}/password", json={"password": "another-password"}, headers=admin
    )
    assert r.status_code == 200
    assert not works(app, theirs, intake)
    assert works(app, others, intake)
    assert works(app, headers_of(app, username, "another-password"), intake)


@pytest.mark.integration
@pytest.mark.parametrize(
    ("change", "revokes"),
    [
        ({"role": "head"}, True),
        ({"district_code": "1008"}, True),
        ({"role": "provincial_secretariat", "province_code": "24"}, True),
        ({"full_name": "ชื่อใหม่ ทดสอบ"}, False),
        ({"active": True}, False),  # already active: nothing changes
    ],
)
def test_a_role_or_scope_change_invalidates_tokens(
    app: Any, admin: dict[str, str], intake: tuple[str, Seen], change: dict[str, Any], revokes: bool
) -> None:
    username = new_user(app, admin)
    theirs = headers_of(app, username, "a-good-password")
    assert works(app, theirs, intake)
    r = app.test_client().patch(f"/api/admin/users/{username}", json=change, headers=admin)
    assert r.status_code == 200, r.json
    assert works(app, theirs, intake) is not revokes
    assert works(app, headers_of(app, username, "a-good-password"), intake)


@pytest.mark.integration
def test_a_token_from_before_the_claim_works_until_the_first_change(
    app: Any, admin: dict[str, str], intake: tuple[str, Seen]
) -> None:
    username = new_user(app, admin)
    secret = app.extensions["ecase"].secret
    old = auth.issue_token(username=username, role="officer", district_code="1001", secret=secret)[0]
    assert works(app, {"Authorization": f"Bearer {old}"}, intake)
    app.test_client().patch(f"/api/admin/users/{username}", json={"active": False}, headers=admin)
    assert not works(app, {"Authorization": f"Bearer {old}"}, intake)


@pytest.mark.integration
def test_tokens_the_gateway_cannot_judge_go_to_the_service(app: Any, intake: tuple[str, Seen]) -> None:
    """Invalid and expired tokens are the service's to refuse (with its own 401); so are tokens
    signed with the secret for a user the gateway does not have (benchmarks, tools)."""
    secret = app.extensions["ecase"].secret
    unknown = auth.issue_token(username="officer.1042", role="officer", district_code="1042", secret=secret)[
        0
    ]
    for header in ("Bearer not.a.jwt", "Basic b2ZmaWNlcjpwdw==", f"Bearer {unknown}"):
        r, reached = forwarded(app, {"Authorization": header}, intake)
        assert (r.status_code, reached) == (200, True), header
    # Public gateway endpoints answer whatever header comes along.
    r = app.test_client().post(
        "/api/auth/token",
        json={"username": "officer.1008", "password": PASSWORD},
        headers={"Authorization": "Bearer not.a.jwt"},
    )
    assert r.status_code == 200


def web_login(client: FlaskClient, username: str, password: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    r = client.post("/login", data={"username": username, "password": password, "csrf_token": token.group(1)})
    assert r.status_code == 303


@pytest.mark.integration
def test_changing_ones_own_password_revokes_bearer_tokens_but_keeps_this_session(
    app: Any, admin: dict[str, str], intake: tuple[str, Seen]
) -> None:
    username = new_user(app, admin)
    theirs = headers_of(app, username, "a-good-password")
    browser = app.test_client()
    web_login(browser, username, "a-good-password")
    page = browser.get("/password").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf
    r = browser.post(
        "/password",
        data={
            "current": "a-good-password",
            "new": "a-new-password-1",
            "again": "a-new-password-1",
            "csrf_token": csrf.group(1),
        },
    )
    assert r.status_code == 303
    assert not works(app, theirs, intake)
    assert browser.get("/").status_code == 200  # the session it was changed in goes on
    with app.extensions["ecase"].sessions() as s:
        user_id = s.scalars(select(User.id).where(User.username == username)).one()
        [kept] = s.scalars(
            select(WebSession).where(WebSession.user_id == user_id, WebSession.revoked.is_(False))
        )
    assert works(app, {"Authorization": f"Bearer {kept.access_token}"}, intake)  # with a new token
