"""Gateway endpoints: login, forwarding, jobs and the operators' view of every queue."""

from __future__ import annotations

import logging
from typing import Any

from flask import request
from flask_limiter import Limiter
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from services.gateway.domain import verify_password
from services.gateway.models import User
from services.gateway.proxy import Forwarder
from shared import audit, auth
from shared.config import env, env_int
from shared.messaging import QUEUES
from shared.web import ApiError, Blueprint, ctx, current_principal, get_session, public, require_roles

log = logging.getLogger(__name__)
STAGES = QUEUES  # the services the gateway forwards to

blp = Blueprint("gateway", __name__, url_prefix="/api", description="Login, forwarding, jobs, operations")
forwarder = Forwarder()


def _login_key() -> str:
    try:
        body = request.get_json(silent=True) or {}
    except RecursionError:  # nested too deeply to parse: the body's schema check answers 400
        body = {}
    username = body.get("username") if isinstance(body, dict) else None
    return f"{request.remote_addr}|{str(username or '')[:80].lower()}"


limiter = Limiter(
    key_func=_login_key,
    default_limits=[],
    headers_enabled=True,
    storage_uri=env("RATELIMIT_STORAGE_URI", "memory://") or "memory://",
)


def login_limit() -> str:
    """Failed logins allowed per (IP, username) and window (reliability.md S1: 10 per hour)."""
    failures = env_int("LOGIN_MAX_FAILURES", 10)
    window = env("LOGIN_FAILURE_WINDOW", "1 hour") or "1 hour"
    return f"{failures} per {window}"


class TokenRequestSchema(Schema):
    """Credentials."""

    username = fields.String(required=True, validate=validate.Length(min=1, max=80))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class UserSchema(Schema):
    """Who the token belongs to."""

    username = fields.String()
    role = fields.String()
    district_code = fields.String(allow_none=True)
    province_code = fields.String(allow_none=True)  # the welfare card measure's roles
    agency = fields.String(allow_none=True)
    full_name = fields.String()


class TokenSchema(Schema):
    """An access token."""

    access_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()
    user = fields.Nested(UserSchema)


@blp.route("/auth/token", methods=["POST"])
@blp.arguments(TokenRequestSchema)
@blp.response(200, TokenSchema)
@blp.alt_response(401, description="Wrong username or password")
@blp.alt_response(429, description="Too many failed attempts")
@limiter.limit(login_limit, deduct_when=lambda response: response.status_code == 401)
@public
def issue_token(creds: dict[str, str]) -> Any:
    """Log in and receive a bearer token."""
    session = get_session()
    with session.begin():
        user = session.scalars(select(User).where(User.username == creds["username"])).first()
        ok = verify_password(user.password_hash if user else None, creds["password"])
        if ok and user is not None and user.active:
            token, expires_in = auth.issue_token(
                username=user.username,
                role=user.role,
                district_code=user.district_code,
                secret=ctx().secret,
                ttl_seconds=env_int("TOKEN_TTL_SECONDS", 8 * 3600),
                province_code=user.province_code,
                agency=user.agency,
                token_generation=user.token_generation,
            )
            audit.record(
                session,
                action="auth.login",
                object_type="user",
                object_id=user.username,
                actor=user.username,
                role=user.role,
                district_code=user.district_code,
                ip=request.remote_addr,
            )
        else:
            # The failure is audited in this committed transaction; the answer is 401 afterwards.
            audit.record(
                session,
                action="auth.login_failed",
                object_type="user",
                object_id=creds["username"][:80],
                actor=creds["username"][:80],
                ip=request.remote_addr,
            )
            user = None
    if user is None:
        log.info("login failed from %s", request.remote_addr)
        raise ApiError(401, "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง", code="bad_credentials")
    return {"access_token": token, "token_type": "Bearer", "expires_in": expires_in, "user": user}


@blp.route("/auth/me")
@blp.response(200, UserSchema)
def who_am_i() -> Any:
    """The logged-in user."""
    user = get_session().scalars(select(User).where(User.username == current_principal().username)).first()
    if user is None or not user.active:
        raise ApiError(401, "บัญชีผู้ใช้นี้ถูกระงับ", code="invalid_token")
    return user


@blp.route("/jobs/<job_id>")
def get_job(job_id: str) -> Any:
    """Follow a long-running job, whichever service runs it."""
    service, _, _ = job_id.partition("-")
    if service not in STAGES:
        raise ApiError(404, "ไม่พบงานที่ต้องการ")
    return forwarder.forward(service, f"/api/{service}/jobs/{job_id}")


@blp.route("/ops/queues")
@require_roles("operator", "central_admin")
def queues() -> Any:
    """Depth, workers, unsent outbox rows, dead letters and recent failures of every queue."""
    authorization = request.headers.get("Authorization")
    out = []
    for service in STAGES:
        status, body = forwarder.get_json(service, f"/api/{service}/ops/status", authorization=authorization)
        out.append(body if status == 200 else {"service": service, "error": "unreachable"})
    return {"services": out, "flower_url": env("FLOWER_URL")}


@blp.route("/ops/dead-letters")
@require_roles("operator", "central_admin")
def dead_letters() -> Any:
    """Parked messages of every service."""
    authorization = request.headers.get("Authorization")
    items: list[Any] = []
    for service in STAGES:
        status, body = forwarder.get_json(
            service, f"/api/{service}/ops/dead-letters", authorization=authorization
        )
        if status == 200 and isinstance(body, list):
            items.extend(body)
    return {"items": items, "total": len(items)}


@blp.route("/ops/dead-letters/<dead_letter_id>/replay", methods=["POST"])
@require_roles("operator")
def replay_dead_letter(dead_letter_id: str) -> Any:
    """Replay a parked message (``<service>-<n>``) in the service that holds it."""
    service, _, number = dead_letter_id.partition("-")
    if service not in STAGES or not (number.isascii() and number.isdigit()):
        raise ApiError(404, "ไม่พบข้อความที่ค้างอยู่")
    return forwarder.forward(service, f"/api/{service}/ops/dead-letters/{number}/replay")


@blp.route("/health")
@public
def overall_health() -> Any:
    """Health of the gateway and every stage service."""
    services = {}
    for service in STAGES:
        status, body = forwarder.get_json(service, f"/api/{service}/health", authorization=None)
        services[service] = body if isinstance(body, dict) else {"status": "unreachable"}
        services[service]["http_status"] = status
    ok = all(s.get("status") == "ok" for s in services.values())
    return {"status": "ok" if ok else "degraded", "services": services}, (200 if ok else 503)


def register_forwarding(app: Any) -> None:
    """Route ``/api/<stage>/<path>`` to its service (after the gateway's own routes)."""

    def forward(service: str, path: str) -> Any:
        if service not in STAGES:
            raise ApiError(404)
        return forwarder.forward(service, f"/api/{service}/{path}")

    forward.ecase_public = True  # type: ignore[attr-defined]  # the owning service checks the token
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    for service in STAGES:
        app.add_url_rule(
            f"/api/{service}/<path:path>",
            endpoint=f"forward_{service}",
            view_func=forward,
            methods=methods,
            defaults={"service": service},
        )
    limiter.init_app(app)
