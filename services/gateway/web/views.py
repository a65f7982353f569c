"""Login, logout, profile and password pages, the role menu, and cookie sessions for /api calls.

Pages call the same JSON APIs a program would: the browser's fetch() requests carry the session
cookie and a CSRF header; the gateway turns the session into the user's bearer token before
forwarding, so every service still checks role and district itself.
"""

from __future__ import annotations

import datetime as dt
import importlib
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFError, CSRFProtect, validate_csrf
from fontpkg_sarabun import ROOT as SARABUN_ROOT
from sqlalchemy import select
from wtforms import ValidationError as CSRFValidationError

from services.gateway import tokens
from services.gateway.api import limiter, login_limit
from services.gateway.domain import check_password_rules, hash_password, verify_password
from services.gateway.models import User
from services.gateway.web import sessions
from shared import audit
from shared.config import env_bool
from shared.districts import get_district
from shared.errors import ValidationError
from shared.thai import format_baht, format_be_date
from shared.web import ctx, http_error_response

bp = Blueprint(
    "web", __name__, template_folder="templates", static_folder="static", static_url_path="/assets"
)
csrf = CSRFProtect()

ROLE_NAMES = {
    "officer": "เจ้าหน้าที่ฝ่ายพัฒนาชุมชนและสวัสดิการสังคม",
    "head": "หัวหน้าฝ่ายพัฒนาชุมชนและสวัสดิการสังคม",
    "finance": "ผู้ทำหน้าที่โอนเงิน",
    "central_admin": "สำนักพัฒนาสังคม (ผู้ดูแลระบบ)",
    "operator": "ผู้ดูแลระบบปฏิบัติการ",
    # the state welfare card measure (docs/welfare_card.md)
    "agency_recorder": "ผู้บันทึกผลการพัฒนาของหน่วยงานพัฒนา",
    "provincial_secretariat": "ฝ่ายเลขานุการ คอจ.",
    "district_team": "ทีม ปรจ. ประจำเขต/อำเภอ",
}
#: (endpoint, Thai label, roles that see it) — the menu shows only what the role may do.  Each
#: page module adds its own entries (its ``MENU``) between the home page and the user's pages.
MENU: list[tuple[str, str, tuple[str, ...] | None]] = [("web.home", "หน้าหลัก", None)]
USER_MENU = [
    ("web.profile", "ข้อมูลผู้ใช้", None),
    ("web.password", "เปลี่ยนรหัสผ่าน", None),
]
#: The screens, one module per area (each has ``bp`` and ``MENU``), in menu order.
PAGE_MODULES = ("cases", "agenda", "reports", "payments", "central", "operator", "welfare_card")


def init_web(app: Flask) -> None:
    """Attach the pages, CSRF protection, security headers and cookie sessions to the gateway."""
    secure = env_bool("COOKIE_SECURE", False)
    app.config.update(
        SESSION_COOKIE_NAME="__Host-ecase" if secure else "ecase",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        WTF_CSRF_CHECK_DEFAULT=False,  # checked below: forms always, /api only for cookie sessions
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the (server-side) session
    )
    csrf.init_app(app)
    Talisman(
        app,
        force_https=secure,
        strict_transport_security=secure,
        strict_transport_security_max_age=31536000,
        session_cookie_secure=secure,
        content_security_policy={
            "default-src": "'self'",
            "object-src": "'none'",
            "base-uri": "'none'",
            "frame-ancestors": "'none'",
            "form-action": "'self'",
        },
        referrer_policy="strict-origin-when-cross-origin",
    )
    app.register_blueprint(bp)
    for name in PAGE_MODULES:
        module = importlib.import_module(f"services.gateway.web.{name}")
        app.register_blueprint(module.bp)
        MENU.extend(e for e in module.MENU if e not in MENU)
    MENU.extend(e for e in USER_MENU if e not in MENU)
    app.jinja_env.filters["be_date"] = be_date
    app.jinja_env.filters["be_datetime"] = be_datetime
    app.jinja_env.filters["baht"] = format_baht
    app.before_request_funcs.setdefault(None, []).insert(0, _session_for_api)
    app.register_error_handler(CSRFError, _csrf_failed)
    for status in (403, 404, 405, 413):
        app.register_error_handler(status, _error_page)


PAGE_ERRORS = {
    403: "คุณไม่มีสิทธิ์ใช้งานหน้านี้",
    404: "ไม่พบหน้าหรือข้อมูลที่ต้องการ",
    405: "ไม่รองรับการเรียกใช้งานแบบนี้",
    413: "ไฟล์หรือข้อมูลมีขนาดใหญ่เกินกำหนด",
}


def _error_page(exc: Any) -> ResponseReturnValue:
    """People get a Thai page; /api callers keep the JSON errors of shared.web."""
    status = getattr(exc, "code", 500) or 500
    if request.path.startswith("/api/"):
        return http_error_response(exc)
    if g.get("user") is None:
        found = _web_user()
        g.user = found[1] if found else None
    message = PAGE_ERRORS.get(status, "เกิดข้อผิดพลาด")
    return render_template("error.html", status=status, message=message), status


BANGKOK = ZoneInfo("Asia/Bangkok")


def _moment(value: Any) -> dt.date | dt.datetime | None:
    """A date or an aware datetime (in Bangkok) from a date, datetime or the APIs' ISO strings."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(BANGKOK)
    return value if isinstance(value, dt.date) else None


def be_date(value: Any) -> str:
    """Jinja ``be_date``: dd/mm/yyyy in the Buddhist era (timestamps on Bangkok's calendar)."""
    moment = _moment(value)
    return format_be_date(moment) if moment is not None else "—"


def be_datetime(value: Any) -> str:
    """Jinja ``be_datetime``: dd/mm/yyyy HH:MM in the Buddhist era, Bangkok time."""
    moment = _moment(value)
    if moment is None:
        return "—"
    if not isinstance(moment, dt.datetime):
        return format_be_date(moment)
    return f"{format_be_date(moment)} {moment:%H:%M} น."


def _web_user() -> tuple[Any, User] | None:
    if "web_user" not in g:
        db = ctx().read_sessions()
        try:
            g.web_user = sessions.load(db, session.get("sid"))
            if g.web_user is not None:
                db.expunge_all()
        finally:
            db.close()
    return g.web_user  # type: ignore[no-any-return]


def _session_for_api() -> None:
    """Let a logged-in browser call /api with its cookie (plus a CSRF header for changes)."""
    if not request.path.startswith("/api/") or "Authorization" in request.headers:
        return
    if request.path == "/api/auth/token":
        return
    found = _web_user()
    if found is None:
        return  # the service answers 401 itself
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        try:
            validate_csrf(request.headers.get("X-CSRFToken"))
        except CSRFValidationError:
            abort(400, description="csrf")
    request.environ["HTTP_AUTHORIZATION"] = f"Bearer {found[0].access_token}"
    _touch()


def _touch() -> None:
    sid = session.get("sid")
    if not sid:
        return
    with ctx().sessions.begin() as db:
        sessions.touch(db, sid)


def _csrf_failed(_exc: CSRFError) -> ResponseReturnValue:
    flash("แบบฟอร์มหมดอายุหรือไม่ถูกต้อง กรุณาลองใหม่อีกครั้ง", "error")
    return redirect(url_for("web.login")), 303


def require_login() -> ResponseReturnValue | None:
    """A redirect to the login page for people who are not logged in; None otherwise.

    Page blueprints use it as their ``before_request``; it also sets ``g.user``.
    """
    found = _web_user()
    if found is None:
        session.pop("sid", None)
        return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
    g.user = found[1]
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()  # every form of every page (a failure redirects to the login page)
    _touch()
    return None


def require_page_roles(*roles: str) -> None:
    """Refuse (403 page in Thai) a user whose role may not see the page; the service checks again."""
    if g.user.role not in roles:
        abort(403)


def login_required(view: Any) -> Any:
    """Send people who are not logged in to the login page."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        refused = require_login()
        if refused is not None:
            return refused
        return view(*args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


@bp.app_context_processor
def _template_globals() -> dict[str, Any]:
    user = g.get("user")
    menu = [
        (ep, label)
        for ep, label, roles in MENU
        if user is not None and (roles is None or user.role in roles) and ep in current_app.view_functions
    ]
    district = get_district(user.district_code) if user is not None and user.district_code else None
    return {"user": user, "menu": menu, "role_names": ROLE_NAMES, "district": district}


FONTS = {"Sarabun-Regular.ttf", "Sarabun-Bold.ttf"}


@bp.route("/assets/fonts/<name>")
def font(name: str) -> ResponseReturnValue:
    """Sarabun from the ``fontpkg-sarabun`` package: Thai renders without fonts on the machine or a CDN."""
    if name not in FONTS:
        abort(404)
    response = send_from_directory(SARABUN_ROOT / "files", name, mimetype="font/ttf", max_age=86400)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    login_limit,
    key_func=lambda: f"{request.remote_addr}|{request.form.get('username', '')[:80].lower()}",
    methods=["POST"],
    deduct_when=lambda response: response.status_code == 401,
)
def login() -> ResponseReturnValue:
    """เข้าสู่ระบบ."""
    if request.method == "GET":
        return render_template("login.html")
    csrf.protect()
    username = request.form.get("username", "")[:80]
    password = request.form.get("password", "")[:256]
    with ctx().sessions.begin() as db:
        user = db.scalars(select(User).where(User.username == username)).first()
        ok = (
            verify_password(user.password_hash if user else None, password)
            and user is not None
            and user.active
        )
        if ok and user is not None:
            sid = sessions.start(db, user, secret=ctx().secret)
            audit.record(
                db,
                action="auth.web_login",
                object_type="user",
                object_id=user.username,
                actor=user.username,
                role=user.role,
                district_code=user.district_code,
                ip=request.remote_addr,
            )
        else:
            audit.record(
                db,
                action="auth.login_failed",
                object_type="user",
                object_id=username or "-",
                actor=username or "-",
                ip=request.remote_addr,
            )
    if not ok:
        return render_template("login.html", error="ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง", username=username), 401
    session.clear()  # a new session id at login (ASVS 7.2.4)
    session["sid"] = sid
    target = request.args.get("next", "")
    return redirect(
        target if target.startswith("/") and not target.startswith("//") else url_for("web.home"), 303
    )


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    """ออกจากระบบ."""
    csrf.protect()
    sid = session.get("sid")
    if sid:
        with ctx().sessions.begin() as db:
            sessions.end(db, sid)
    session.clear()
    return redirect(url_for("web.login"), 303)


@bp.route("/")
@login_required
def home() -> ResponseReturnValue:
    """หน้าหลัก: work waiting for this user (deferred cases, counts per stage, batches to pay)."""
    from services.gateway.web.agenda import home_work  # the page modules import this module

    return render_template("home.html", **home_work(g.user))


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile() -> ResponseReturnValue:
    """ข้อมูลผู้ใช้: the user edits their display name."""
    if request.method == "POST":
        csrf.protect()
        name = request.form.get("full_name", "").strip()
        if not 1 <= len(name) <= 200:
            return render_template(
                "profile.html", errors={"full_name": "กรุณากรอกชื่อ-นามสกุล (ไม่เกิน 200 ตัวอักษร)"}
            ), 400
        with ctx().sessions.begin() as db:
            user = db.get(User, g.user.id)
            before = user.full_name
            user.full_name = name
            audit.record(
                db,
                action="user.profile",
                object_type="user",
                object_id=user.username,
                actor=user.username,
                role=user.role,
                district_code=user.district_code,
                ip=request.remote_addr,
                fields=("full_name",),
                before={"full_name": before},
                after={"full_name": name},
            )
        flash("บันทึกข้อมูลผู้ใช้แล้ว", "ok")
        return redirect(url_for("web.profile"), 303)
    return render_template("profile.html", errors={})


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password() -> ResponseReturnValue:
    """เปลี่ยนรหัสผ่าน: other sessions of the user end (ASVS 7.4.3)."""
    if request.method == "GET":
        return render_template("password.html", errors={})
    csrf.protect()
    current, new, again = (request.form.get(k, "") for k in ("current", "new", "again"))
    errors: dict[str, str] = {}
    if not verify_password(g.user.password_hash, current):
        errors["current"] = "รหัสผ่านปัจจุบันไม่ถูกต้อง"
    try:
        check_password_rules(new)
    except ValidationError as exc:
        errors["new"] = exc.message
    if new != again:
        errors["again"] = "รหัสผ่านใหม่ทั้งสองช่องไม่ตรงกัน"
    if errors:
        return render_template("password.html", errors=errors), 400
    with ctx().sessions.begin() as db:
        user = db.get(User, g.user.id)
        user.password_hash = hash_password(new)
        sessions.end_all_for(db, user.id, keep=session.get("sid"))
        tokens.revoke_tokens(db, user)  # bearer tokens too (ASVS 7.4.3); this session gets a new one
        sessions.renew_token(db, session.get("sid", ""), user, secret=ctx().secret)
        audit.record(
            db,
            action="user.password_changed",
            object_type="user",
            object_id=user.username,
            actor=user.username,
            role=user.role,
            district_code=user.district_code,
            ip=request.remote_addr,
            fields=("password",),
        )
    flash("เปลี่ยนรหัสผ่านแล้ว", "ok")
    return redirect(url_for("web.home"), 303)
