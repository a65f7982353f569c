"""Pages: Central office
(สำนักพัฒนาสังคม): users and roles, districts, welfare catalogue, programmes, budgets, summaries.

Every page calls the same JSON APIs a program would, as the logged-in user: the gateway's own
``/api/admin/users`` (in process, see :func:`gateway_api`), intake's catalogue and reporting's
budgets and summary (``client.api``).  The services check the role again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from services.gateway.web.client import ApiResult, api, page_params
from services.gateway.web.views import ROLE_NAMES, require_login, require_page_roles
from shared import areas
from shared.auth import AGENCY_ROLES, CITY_WIDE_ROLES, DISTRICT_ROLES, PROVINCE_ROLES, ROLES
from shared.thai import be_year, fiscal_year, format_baht, format_be_date
from shared.welfare_card import AGENCIES

bp = Blueprint("central", __name__, url_prefix="/central", template_folder="templates")
bp.before_request(require_login)

CENTRAL = ("central_admin",)
#: (endpoint, Thai label, roles that see it); see views.MENU.
MENU: list[tuple[str, str, tuple[str, ...] | None]] = [
    ("central.summary", "สรุปภาพรวม", CENTRAL),
    ("central.users", "ผู้ใช้และสิทธิ์", CENTRAL),
    ("central.districts", "สำนักงานเขต", CENTRAL),
    ("central.catalogue", "ประเภทความช่วยเหลือและโครงการ", CENTRAL),
    ("central.budgets", "งบประมาณ", CENTRAL),
]

BANGKOK = dt.timezone(dt.timedelta(hours=7), "Asia/Bangkok")
CEILING_SCOPES = {
    "per_case": "ต่อครั้ง",
    "per_person_fy": "ต่อคนต่อปีงบประมาณ",
    "per_family_fy": "ต่อครอบครัว (ทะเบียนบ้าน) ต่อปีงบประมาณ",
}
DOCUMENT_KINDS = {"related": "เอกสารที่เกี่ยวข้อง", "financial": "เอกสารทางการเงิน"}
SOURCES = {"seeds": "ตามเอกสารอ้างอิง", "configured": "กำหนดโดยสำนักพัฒนาสังคม"}
PASSWORDS_DIFFER = "รหัสผ่านทั้งสองช่องไม่ตรงกัน"


@bp.before_request
def _central_office_only() -> None:
    """Only the central office sees these pages (runs after ``require_login``)."""
    require_page_roles(*CENTRAL)


# --- helpers ---------------------------------------------------------------------------------------
def gateway_api(
    method: str, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None
) -> ApiResult:
    """Call the gateway's own JSON API (``/api/admin/...``) as the logged-in user.

    The request is dispatched in process through WSGI — the same validation, role checks, audit and
    errors as over HTTP, without a socket back to this server.  A fresh application context keeps
    the inner request's ``g`` apart from the page's.
    """
    web_user = g.get("web_user")
    headers = {"Accept": "application/json"}
    if web_user is not None:
        headers["Authorization"] = f"Bearer {web_user[0].access_token}"
    if "X-Request-Id" in request.headers:
        headers["X-Request-Id"] = request.headers["X-Request-Id"]
    clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with app.app_context():
        response = app.test_client().open(
            path,
            method=method,
            json=json,
            query_string=clean,
            headers=headers,
            environ_base={"REMOTE_ADDR": request.remote_addr or ""},
        )
    return ApiResult(response.status_code, response.get_json(silent=True), dict(response.headers))


def be_moment(value: str | None) -> str:
    """``dd/mm/yyyy HH:MM น.`` (Buddhist era, Bangkok time) of an API timestamp; "" when empty."""
    if not value:
        return ""
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    moment = moment.astimezone(BANGKOK)
    return f"{format_be_date(moment)} {moment:%H:%M} น."


def current_fiscal_year() -> int:
    """The Buddhist-era fiscal year of today in Bangkok."""
    return fiscal_year(dt.datetime.now(BANGKOK).date())


def month_label(month: str) -> str:
    """``2022-10`` → ``ต.ค. 2565``."""
    year, number = (int(p) for p in month.split("-"))
    return f"{THAI_MONTHS_SHORT[number - 1]} {be_year(year)}"


THAI_MONTHS_SHORT = (
    "ม.ค.",
    "ก.พ.",
    "มี.ค.",
    "เม.ย.",
    "พ.ค.",
    "มิ.ย.",
    "ก.ค.",
    "ส.ค.",
    "ก.ย.",
    "ต.ค.",
    "พ.ย.",
    "ธ.ค.",
)


def page_message(r: ApiResult) -> str:
    """The sentence above a form: the API's own, or a plain Thai one when the fields say it all."""
    if r.status == 400 and r.field_errors and "_" not in r.field_errors:
        return "ข้อมูลไม่ถูกต้อง กรุณาแก้ไขช่องที่มีข้อความสีแดง"
    return r.message


def money_or_dash(value: str | None) -> str:
    """An API amount with thousands separators, or a dash when there is none."""
    return "—" if value in (None, "") else format_baht(value)  # type: ignore[arg-type]


def plain_amount(text: str) -> str:
    """What a person typed as an amount, without thousands separators and spaces."""
    return text.replace(",", "").replace(" ", "").strip()


def districts() -> tuple[list[dict[str, str]], str]:
    """The 50 districts from intake (and an error message, "" when all went well)."""
    r = api("GET", "/api/intake/districts")
    return (r.data if r.ok and isinstance(r.data, list) else []), r.message


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "be_moment": be_moment,
        "money_or_dash": money_or_dash,
        "ceiling_scopes": CEILING_SCOPES,
        "document_kinds": DOCUMENT_KINDS,
        "sources": SOURCES,
        "city_wide_roles": CITY_WIDE_ROLES,
    }


# --- charts (server-side SVG; no JS library) -----------------------------------------------------
@dataclass(frozen=True)
class Series:
    """One measure drawn in a chart: the API field, its Thai name and colour, and whether it is baht."""

    key: str
    name: str
    colour: str
    money: bool = True


AMOUNTS = (
    Series("requested_amount", "ยอดขอรับ (บาท)", "#9fb3c8"),
    Series("paid_amount", "จ่ายแล้ว (บาท)", "#0b5394"),
)
CASES = (Series("cases", "จำนวนเคส", "#0b5394", money=False),)


def _axis_top(value: Decimal, *, whole: bool) -> Decimal:
    """The end of the value axis: four equal steps of 1, 1.25, 2, 2.5 or 5 × 10^k (whole steps for counts)."""
    if value <= 0:
        return Decimal(4)
    rough = value / 4
    exponent = rough.adjusted()
    for mantissa in ("1", "1.25", "2", "2.5", "5", "10"):
        step = Decimal(mantissa).scaleb(exponent)
        if step >= rough and (not whole or step == step.to_integral_value()):
            return step * 4
    return Decimal(10).scaleb(exponent) * 4  # pragma: no cover  (10 × 10^k always covers)


def _short(text: str, limit: int = 34) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _num(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.1")))


def _fmt(series: Series, value: Decimal) -> str:
    return format_baht(value) if series.money else f"{int(value):,}"


def bar_chart(
    rows: Sequence[Mapping[str, Any]],
    *,
    label: Callable[[Mapping[str, Any]], str],
    series: Sequence[Series],
    horizontal: bool,
    title: str,
) -> dict[str, Any]:
    """Geometry of a grouped bar chart of ``rows`` for the ``charts.html`` macros (SVG user units).

    Horizontal charts have one row of bars per item (districts, welfare types); vertical charts
    one group per item (months).  Values come from the API as strings and stay Decimal.
    """
    values = [[Decimal(str(row.get(s.key) or 0)) for s in series] for row in rows]
    top = _axis_top(
        max((v for vs in values for v in vs), default=Decimal(0)), whole=not any(s.money for s in series)
    )
    ticks = [top * i / 4 for i in range(5)]
    bars: list[dict[str, Any]] = []
    labels: list[dict[str, Any]] = []
    if horizontal:
        left, plot, row_h, head = Decimal(250), Decimal(540), Decimal(12 * len(series) + 10), Decimal(40)
        width, height = Decimal(900), head + row_h * len(rows) + 30
        for i, (row, vs) in enumerate(zip(rows, values, strict=True)):
            y0 = head + row_h * i
            labels.append({"x": _num(left - 8), "y": _num(y0 + row_h / 2 + 4), "text": _short(label(row))})
            for j, (s, v) in enumerate(zip(series, vs, strict=True)):
                w = plot * v / top
                bars.append(
                    {
                        "x": _num(left),
                        "y": _num(y0 + 5 + 12 * j),
                        "w": _num(w),
                        "h": "10",
                        "colour": s.colour,
                        "title": f"{label(row)} · {s.name}: {_fmt(s, v)}",
                        "value": _fmt(s, v) if v else "",
                        "vx": _num(left + w + 4),
                        "vy": _num(y0 + 14 + 12 * j),
                    }
                )
        grid = []
        for t in ticks:
            x = _num(left + plot * t / top)
            grid.append(
                {
                    "x1": x,
                    "y1": _num(head - 6),
                    "x2": x,
                    "y2": _num(height - 24),
                    "tx": x,
                    "ty": _num(height - 8),
                }
                | {"text": _tick(t)}
            )
    else:
        left, bottom, head = Decimal(90), Decimal(50), Decimal(40)
        width, height = Decimal(900), Decimal(320)
        plot_w, plot_h = width - left - 20, height - head - bottom
        group = plot_w / max(len(rows), 1)
        bar_w = min(group * Decimal("0.8") / len(series), Decimal(28))
        every = max(1, (len(rows) + 17) // 18)  # at most ~18 month labels fit
        for i, (row, vs) in enumerate(zip(rows, values, strict=True)):
            x0 = left + group * i + (group - bar_w * len(series)) / 2
            if i % every == 0:
                labels.append(
                    {
                        "x": _num(left + group * i + group / 2),
                        "y": _num(height - bottom + 18),
                        "text": label(row),
                    }
                )
            for j, (s, v) in enumerate(zip(series, vs, strict=True)):
                h = plot_h * v / top
                bars.append(
                    {
                        "x": _num(x0 + bar_w * j),
                        "y": _num(head + plot_h - h),
                        "w": _num(bar_w),
                        "h": _num(h),
                        "colour": s.colour,
                        "title": f"{label(row)} · {s.name}: {_fmt(s, v)}",
                        "value": "",
                    }
                )
        grid = []
        for t in ticks:
            y = head + plot_h - plot_h * t / top
            grid.append(
                {"x1": _num(left), "y1": _num(y), "x2": _num(width - 20), "y2": _num(y), "tx": _num(left - 6)}
                | {"ty": _num(y + 4), "text": _tick(t)}
            )
    legend = [{"x": 10 + 190 * i, "colour": s.colour, "name": s.name} for i, s in enumerate(series)]
    return {
        "title": title,
        "width": _num(width),
        "height": _num(height),
        "horizontal": horizontal,
        "bars": bars,
        "labels": labels,
        "grid": grid,
        "legend": legend,
        "empty": not rows,
    }


def _tick(value: Decimal) -> str:
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0")


# --- users and roles -----------------------------------------------------------------------------
def _role_options() -> list[tuple[str, str]]:
    return [(r, ROLE_NAMES[r]) for r in ROLES]


def _district_options(items: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(d["code"], f"{d['code']} {d['name_th']}") for d in items]


def _scope_options(items: list[dict[str, str]]) -> dict[str, Any]:
    """Choices for a user's district, province and agency.

    The E-Case roles take one of Bangkok's 50 district offices; the welfare card measure's district
    team any district of Thailand (grouped by province, Bangkok first), its provincial secretariat
    a province and its agency recorders an agency.
    """
    groups: list[tuple[str, list[tuple[str, str]]]] = [("กรุงเทพมหานคร", _district_options(items))]
    for province in areas.provinces():
        if province.code != areas.BANGKOK:
            districts_ = [(a.code, f"{a.code} {a.full_name_th}") for a in areas.districts_of(province.code)]
            groups.append((f"จังหวัด{province.name_th}", districts_))
    return {
        "roles": _role_options(),
        "district_groups": groups,
        "province_options": [(p.code, f"{p.code} {p.name_th}") for p in areas.provinces()],
        "agency_options": [(a.code, a.name_th) for a in AGENCIES],
        "district_roles": DISTRICT_ROLES,
        "province_roles": PROVINCE_ROLES + AGENCY_ROLES,
        "agency_roles": AGENCY_ROLES,
    }


@bp.route("/")
def index() -> ResponseReturnValue:
    """The central office starts at the city-wide summary."""
    return redirect(url_for("central.summary"))


@bp.route("/users")
def users() -> ResponseReturnValue:
    """ผู้ใช้และสิทธิ์: every user, filtered by role, district, state or name."""
    params = page_params("role", "district_code", "q", "active", "page")
    params["per_page"] = "50"
    r = gateway_api("GET", "/api/admin/users", params=params)
    items, _ = districts()
    data = r.data if r.ok else {"items": [], "total": 0}
    return render_template(
        "central/users.html",
        result=data,
        error=page_message(r),
        errors=r.field_errors,
        page=int(params.get("page", "1")) if params.get("page", "1").isdigit() else 1,
        roles=_role_options(),
        district_options=_district_options(items),
    ), (200 if r.ok else r.status)


def _user_form() -> dict[str, Any]:
    return {
        "username": request.form.get("username", "").strip(),
        "full_name": request.form.get("full_name", ""),
        "role": request.form.get("role", ""),
        "district_code": request.form.get("district_code", "") or None,
        "province_code": request.form.get("province_code", "") or None,
        "agency": request.form.get("agency", "") or None,
    }


@bp.route("/users/new", methods=["GET", "POST"])
def new_user() -> ResponseReturnValue:
    """เพิ่มผู้ใช้: username, name, role, its district, province or agency, and a first password."""
    items, error = districts()
    options = _scope_options(items)
    if request.method == "GET":
        return render_template("central/user_new.html", form={}, errors={}, error=error, **options)
    form = _user_form()
    password, again = request.form.get("password", ""), request.form.get("password_again", "")
    if password != again:
        errors = {"password_again": PASSWORDS_DIFFER}
        return render_template("central/user_new.html", form=form, errors=errors, error="", **options), 400
    r = gateway_api("POST", "/api/admin/users", json={**form, "password": password})
    if not r.ok:
        return render_template(
            "central/user_new.html", form=form, errors=r.field_errors, error=page_message(r), **options
        ), r.status
    flash(f"เพิ่มผู้ใช้ {r.data['username']} แล้ว", "ok")
    return redirect(url_for("central.user", username=r.data["username"]), 303)


def _render_user(username: str, *, status: int = 200, **extra: Any) -> ResponseReturnValue:
    r = gateway_api("GET", f"/api/admin/users/{quote(username, safe='')}")
    if not r.ok:
        return render_template("central/message.html", title="ผู้ใช้", error=page_message(r)), r.status
    items, error = districts()
    context: dict[str, Any] = {"errors": {}, "error": error, "form": r.data}
    context.update(extra)
    options = _scope_options(items)
    return render_template("central/user_edit.html", account=r.data, **options, **context), status


@bp.route("/users/<username>")
def user(username: str) -> ResponseReturnValue:
    """One user: change name, role and scope; disable or enable; reset the password."""
    return _render_user(username)


@bp.route("/users/<username>", methods=["POST"])
def update_user(username: str) -> ResponseReturnValue:
    """Save the name, role, district, province and agency."""
    form = _user_form()
    form.pop("username")
    r = gateway_api("PATCH", f"/api/admin/users/{quote(username, safe='')}", json=form)
    if not r.ok:
        return _render_user(
            username, status=r.status, errors=r.field_errors, error=page_message(r), form=form
        )
    flash("บันทึกข้อมูลผู้ใช้แล้ว", "ok")
    return redirect(url_for("central.user", username=username), 303)


@bp.route("/users/<username>/active", methods=["POST"])
def set_active(username: str) -> ResponseReturnValue:
    """Disable (sessions end at once) or enable a user."""
    active = request.form.get("active") == "1"
    r = gateway_api("PATCH", f"/api/admin/users/{quote(username, safe='')}", json={"active": active})
    if not r.ok:
        return _render_user(username, status=r.status, error=r.message)
    flash(f"เปิดใช้งานบัญชี {username} แล้ว" if active else f"ระงับบัญชี {username} แล้ว", "ok")
    return redirect(url_for("central.user", username=username), 303)


@bp.route("/users/<username>/password", methods=["POST"])
def reset_password(username: str) -> ResponseReturnValue:
    """Set a new password for a user; their sessions end."""
    password, again = request.form.get("password", ""), request.form.get("password_again", "")
    if password != again:
        return _render_user(username, status=400, errors={"password_again": PASSWORDS_DIFFER})
    r = gateway_api(
        "POST", f"/api/admin/users/{quote(username, safe='')}/password", json={"password": password}
    )
    if not r.ok:
        return _render_user(username, status=r.status, errors=r.field_errors, error=page_message(r))
    flash(f"ตั้งรหัสผ่านใหม่ให้ {username} แล้ว ผู้ใช้ต้องเข้าสู่ระบบใหม่", "ok")
    return redirect(url_for("central.user", username=username), 303)


# --- districts -------------------------------------------------------------------------------------
@bp.route("/districts", endpoint="districts")
def districts_page() -> ResponseReturnValue:
    """สำนักงานเขต: the 50 districts, with links to their users, budgets and summary."""
    items, error = districts()
    return render_template(
        "central/districts.html", items=items, error=error, fiscal_year=current_fiscal_year()
    ), (200 if not error else 503)


# --- the welfare catalogue and programmes ------------------------------------------------------------
@bp.route("/catalogue")
def catalogue() -> ResponseReturnValue:
    """ประเภทความช่วยเหลือและโครงการ: the welfare types with their rules, and the programmes."""
    types = api("GET", "/api/intake/welfare-types")
    programmes = api("GET", "/api/intake/programmes")
    return render_template(
        "central/catalogue.html",
        types=types.data if types.ok else [],
        programmes=programmes.data if programmes.ok else [],
        error=types.message or programmes.message,
    ), (200 if types.ok and programmes.ok else 503)


def _welfare_type_form() -> dict[str, Any]:
    ceiling = plain_amount(request.form.get("ceiling", ""))
    repeat = request.form.get("repeat_limit", "").strip()
    body: dict[str, Any] = {
        "name_th": request.form.get("name_th", ""),
        "regulation_ref": request.form.get("regulation_ref", "").strip() or None,
        "ceiling": ceiling or None,
        "ceiling_scope": request.form.get("ceiling_scope", ""),
        "repeat_limit": repeat or None,
        "required_documents": request.form.getlist("required_documents"),
        "active": request.form.get("active") == "1",
    }
    if "code" in request.form:
        body["code"] = request.form.get("code", "").strip()
    return body


def _welfare_type(code: str) -> tuple[dict[str, Any] | None, ApiResult]:
    r = api("GET", "/api/intake/welfare-types")
    found = next((t for t in (r.data if r.ok else []) if t.get("code") == code), None)
    return found, r


@bp.route("/welfare-types/new", methods=["GET", "POST"])
def new_welfare_type() -> ResponseReturnValue:
    """เพิ่มประเภทความช่วยเหลือ."""
    if request.method == "GET":
        form = {"active": True, "ceiling_scope": "per_case", "required_documents": list(DOCUMENT_KINDS)}
        return render_template("central/welfare_type.html", form=form, errors={}, error="", new=True)
    body = _welfare_type_form()
    r = api("POST", "/api/intake/welfare-types", json=body)
    if not r.ok:
        return render_template(
            "central/welfare_type.html", form=body, errors=r.field_errors, error=page_message(r), new=True
        ), r.status
    flash(f"เพิ่มประเภทความช่วยเหลือ {r.data['code']} แล้ว", "ok")
    return redirect(url_for("central.catalogue"), 303)


@bp.route("/welfare-types/<code>", methods=["GET", "POST"])
def welfare_type(code: str) -> ResponseReturnValue:
    """แก้ไขประเภทความช่วยเหลือ: ceiling, scope, repeat limit, required documents, active."""
    found, r = _welfare_type(code)
    if found is None:
        message = r.message or "ไม่พบประเภทความช่วยเหลือนี้"
        return render_template("central/message.html", title="ประเภทความช่วยเหลือ", error=message), (
            r.status if not r.ok else 404
        )
    if request.method == "GET":
        return render_template("central/welfare_type.html", form=found, current=found, errors={}, error="")
    body = _welfare_type_form()
    changed = api("PATCH", f"/api/intake/welfare-types/{quote(code, safe='')}", json=body)
    if not changed.ok:
        return render_template(
            "central/welfare_type.html",
            form={**body, "code": code},
            current=found,
            errors=changed.field_errors,
            error=page_message(changed),
        ), changed.status
    flash(f"บันทึกประเภทความช่วยเหลือ {code} แล้ว", "ok")
    return redirect(url_for("central.catalogue"), 303)


def _programme_form() -> dict[str, Any]:
    body: dict[str, Any] = {
        "name_th": request.form.get("name_th", ""),
        "welfare_type_code": request.form.get("welfare_type_code", ""),
        "reference": request.form.get("reference", "").strip() or None,
        "excluded_welfare_type_code": request.form.get("excluded_welfare_type_code", ""),
        "excluded_fiscal_year": request.form.get("excluded_fiscal_year", "").strip() or None,
        "active": request.form.get("active") == "1",
    }
    rule = request.form.get("rule_code", "").strip()
    if rule:
        body["rule_code"] = rule
    if "code" in request.form:
        body["code"] = request.form.get("code", "").strip()
    return body


def _type_options() -> list[tuple[str, str]]:
    r = api("GET", "/api/intake/welfare-types")
    return [(t["code"], f"{t['code']} {t['name_th']}") for t in (r.data if r.ok else [])]


@bp.route("/programmes/new", methods=["GET", "POST"])
def new_programme() -> ResponseReturnValue:
    """เพิ่มโครงการ: a programme of a welfare type, refusing those granted a type in a fiscal year."""
    options = _type_options()
    if request.method == "GET":
        form = {"active": True}
        return render_template(
            "central/programme.html", form=form, errors={}, error="", new=True, type_options=options
        )
    body = _programme_form()
    r = api("POST", "/api/intake/programmes", json=body)
    if not r.ok:
        return render_template(
            "central/programme.html",
            form=body,
            errors=r.field_errors,
            error=page_message(r),
            new=True,
            type_options=options,
        ), r.status
    flash(f"เพิ่มโครงการ {r.data['code']} แล้ว", "ok")
    return redirect(url_for("central.catalogue"), 303)


@bp.route("/programmes/<code>", methods=["GET", "POST"])
def programme(code: str) -> ResponseReturnValue:
    """แก้ไขโครงการ."""
    r = api("GET", "/api/intake/programmes")
    found = next((p for p in (r.data if r.ok else []) if p.get("code") == code), None)
    if found is None:
        message = r.message or "ไม่พบโครงการนี้"
        return render_template("central/message.html", title="โครงการ", error=message), (
            r.status if not r.ok else 404
        )
    options = _type_options()
    if request.method == "GET":
        return render_template(
            "central/programme.html", form=found, current=found, errors={}, error="", type_options=options
        )
    body = _programme_form()
    changed = api("PATCH", f"/api/intake/programmes/{quote(code, safe='')}", json=body)
    if not changed.ok:
        return render_template(
            "central/programme.html",
            form={**body, "code": code},
            current=found,
            errors=changed.field_errors,
            error=page_message(changed),
            type_options=options,
        ), changed.status
    flash(f"บันทึกโครงการ {code} แล้ว", "ok")
    return redirect(url_for("central.catalogue"), 303)


# --- budgets ---------------------------------------------------------------------------------------
def _fiscal_year_arg() -> tuple[int | None, str]:
    """The ``?fiscal_year=`` asked for (default: this one) and a Thai error when it is not a year."""
    text = request.args.get("fiscal_year", "").strip()
    if not text:
        return current_fiscal_year(), ""
    if text.isascii() and text.isdigit() and 2500 <= int(text) <= 2700:
        return int(text), ""
    return None, "ปีงบประมาณต้องเป็นปี พ.ศ. ระหว่าง 2500 ถึง 2700 เช่น 2567"


def _render_budgets(
    year: int | None,
    *,
    status: int = 200,
    row_errors: Mapping[str, str] | None = None,
    typed: Mapping[str, str] | None = None,
    error: str = "",
) -> ResponseReturnValue:
    items, district_error = districts()
    rows: list[dict[str, Any]] = []
    totals = {"allocated": Decimal(0), "disbursed": Decimal(0)}
    if year is not None:
        r = api("GET", "/api/reporting/budgets", params={"fiscal_year": year})
        error = error or r.message or district_error
        by_code = {b["district_code"]: b for b in (r.data or {}).get("items", [])} if r.ok else {}
        for d in items:
            b = by_code.get(d["code"], {})
            rows.append({"district": d, "budget": b})
            totals["allocated"] += Decimal(b.get("allocated_amount") or 0)
            totals["disbursed"] += Decimal(b.get("disbursed_amount") or 0)
    return render_template(
        "central/budgets.html",
        year=year,
        rows=rows,
        totals=totals,
        row_errors=row_errors or {},
        typed=typed or {},
        error=error,
        year_error="" if year is not None else _fiscal_year_arg()[1],
    ), status


@bp.route("/budgets")
def budgets() -> ResponseReturnValue:
    """งบประมาณ: each district's allocation for a fiscal year, what was paid out and its share."""
    year, year_error = _fiscal_year_arg()
    return _render_budgets(year, status=400 if year_error else 200)


@bp.route("/budgets/<int:year>/<district_code>", methods=["POST"])
def set_budget(year: int, district_code: str) -> ResponseReturnValue:
    """Enter a district's allocation for a fiscal year."""
    typed = request.form.get("amount", "")
    r = api(
        "PUT",
        f"/api/reporting/budgets/{year}/{quote(district_code, safe='')}",
        json={"amount": plain_amount(typed)},
    )
    if not r.ok:
        message = r.field_errors.get("amount") or r.message
        return _render_budgets(
            year,
            status=r.status,
            row_errors={district_code: message},
            typed={district_code: typed},
            error=page_message(r),
        )
    name = r.data.get("district_name") or district_code
    flash(f"บันทึกงบประมาณปี {year} ของเขต{name} แล้ว", "ok")
    return redirect(url_for("central.budgets", fiscal_year=year) + f"#d{district_code}", 303)


# --- city-wide summary -----------------------------------------------------------------------------
@bp.route("/summary")
def summary() -> ResponseReturnValue:
    """สรุปภาพรวม: cases and amounts by district, welfare type and month, budgets; XLSX download."""
    params = page_params("fiscal_year", "district_code")
    items, _ = districts()
    r = api("GET", "/api/reporting/summary", params=params)
    data = r.data if r.ok else None
    charts = {}
    if data:
        charts = {
            "district": bar_chart(
                sorted(data["by_district"], key=lambda x: x["district_code"]),
                label=lambda x: x.get("district_name") or x["district_code"],
                series=AMOUNTS,
                horizontal=True,
                title="ยอดขอรับและยอดจ่ายแล้ว แยกตามสำนักงานเขต",
            ),
            "welfare_type": bar_chart(
                data["by_welfare_type"],
                label=lambda x: x.get("welfare_type_name") or x["welfare_type_code"],
                series=AMOUNTS,
                horizontal=True,
                title="ยอดขอรับและยอดจ่ายแล้ว แยกตามประเภทความช่วยเหลือ",
            ),
            "month": bar_chart(
                sorted(data["by_month"], key=lambda x: x["month"]),
                label=lambda x: month_label(x["month"]),
                series=AMOUNTS,
                horizontal=False,
                title="ยอดขอรับและยอดจ่ายแล้ว แยกตามเดือนที่รับเรื่อง",
            ),
            "month_cases": bar_chart(
                sorted(data["by_month"], key=lambda x: x["month"]),
                label=lambda x: month_label(x["month"]),
                series=CASES,
                horizontal=False,
                title="จำนวนเคส แยกตามเดือนที่รับเรื่อง",
            ),
        }
    xlsx = "/api/reporting/summary.xlsx" + (f"?{urlencode(params)}" if params else "")
    return render_template(
        "central/summary.html",
        data=data,
        charts=charts,
        error=page_message(r),
        errors=r.field_errors,
        params=params,
        xlsx=xlsx,
        district_options=_district_options(items),
        month_label=month_label,
        this_year=current_fiscal_year(),
        district_name=next((d["name_th"] for d in items if d["code"] == params.get("district_code")), ""),
    ), (200 if r.ok else r.status)
