"""Pages: the state welfare card measure (มาตรการพัฒนาคุณภาพชีวิตผู้มีบัตรสวัสดิการแห่งรัฐ ระยะที่ 2).

* The **public self-check** (``/welfare-card/check``, no login): a 13-digit national ID, its check
  digit validated here first, then the gateway's own rate-limited ``/api/public/welfare-card/{id}``
  (called in process with the visitor's address, so the page and the API share one limit per
  client).  The page shows only whether the person is a participant, their group and their
  district's registration places; an unknown ID looks exactly like a non-participant.
* The **MIS summary** with server-side SVG charts (reporting's ``/api/reporting/welfare-card/summary``).
* Recording, on intake's ``/api/intake/welfare-card/...``: participants (a national ID is opened by
  a form and kept in the session, never in a URL), development results, follow-ups, intent
  registrations (แบบย่อ), registration places, projects and the participants list import with
  progress.

Every page calls the same JSON APIs a program would, as the logged-in user; the services check
role and scope again.  Pages only hide what a role may not do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError

from services.gateway.public_api import DEFAULT_MAX_IMPORT_BYTES
from services.gateway.web import sessions
from services.gateway.web.central import Series, bar_chart, gateway_api
from services.gateway.web.client import ApiResult, api
from services.gateway.web.views import csrf, require_login, require_page_roles
from shared.areas import districts_of, get_area, get_province, provinces
from shared.config import env_int
from shared.errors import ValidationError
from shared.thai import mask_national_id, parse_be_date, parse_national_id
from shared.web import ctx
from shared.welfare_card import AGENCIES, GROUPS, PROGRESS, PROJECT_KINDS, RESULTS

bp = Blueprint("welfare_card", __name__, url_prefix="/welfare-card", template_folder="templates")

#: Who does what (as intake's scope rules say; the services check again).
READERS = ("central_admin", "provincial_secretariat", "agency_recorder", "district_team", "officer", "head")
IMPORTERS = ("central_admin", "provincial_secretariat", "agency_recorder")
DEVELOPMENT_RECORDERS = ("central_admin", "provincial_secretariat", "agency_recorder")
FOLLOW_UP_RECORDERS = ("central_admin", "district_team")
PLACE_WRITERS = ("central_admin", "provincial_secretariat", "district_team")
INTENT_RECORDERS = ("officer", "district_team")
PROJECT_WRITERS = ("central_admin", "provincial_secretariat", "agency_recorder")
#: (endpoint, Thai label, roles that see it); see views.MENU.
MENU: list[tuple[str, str, tuple[str, ...] | None]] = [
    ("welfare_card.summary", "สรุปมาตรการบัตรสวัสดิการแห่งรัฐ", READERS),
    ("welfare_card.participants", "ผู้เข้าร่วมมาตรการ", READERS),
    ("welfare_card.intents", "แจ้งความประสงค์ (แบบย่อ)", INTENT_RECORDERS),
    ("welfare_card.places", "สถานที่รับแจ้งความประสงค์", PLACE_WRITERS),
    ("welfare_card.projects", "โครงการพัฒนา", PROJECT_WRITERS),
    ("welfare_card.imports", "นำเข้ารายชื่อผู้เข้าร่วม", IMPORTERS),
]
#: Pages anyone may open without logging in.
PUBLIC_ENDPOINTS = frozenset({"welfare_card.check"})
PER_PAGE = 20
AGENCY_NAMES = {a.code: a.name_th for a in AGENCIES}
THROTTLED = "มีการตรวจสอบจากเครื่องของท่านบ่อยเกินไป กรุณารอ{wait}แล้วลองใหม่อีกครั้ง"
_SEPARATORS = re.compile(r"[\s-]+")
_PARTICIPANT_KEY = "wc_participant"  # in the server-side page state, not the cookie


@bp.before_request
def _login_unless_public() -> ResponseReturnValue | None:
    """Every page needs a login except the public self-check.

    The participants list is far bigger than other uploads: its form takes the same limit as the
    gateway's forwarding of ``POST /api/intake/welfare-card/imports`` (set before the form is read).
    """
    if request.endpoint == "welfare_card.upload_import" and request.method == "POST":
        request.max_content_length = env_int("WELFARE_CARD_MAX_IMPORT_BYTES", DEFAULT_MAX_IMPORT_BYTES)
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    return require_login()


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "agency_names": AGENCY_NAMES,
        "groups": GROUPS,
        "results": RESULTS,
        "progress_names": PROGRESS,
        "project_kinds": PROJECT_KINDS,
        "area_name": area_name,
        "province_name": province_name,
        "can": lambda roles: g.get("user") is not None and g.user.role in roles,
        "DEVELOPMENT_RECORDERS": DEVELOPMENT_RECORDERS,
        "FOLLOW_UP_RECORDERS": FOLLOW_UP_RECORDERS,
        "PLACE_WRITERS": PLACE_WRITERS,
        "INTENT_RECORDERS": INTENT_RECORDERS,
        "PROJECT_WRITERS": PROJECT_WRITERS,
        "IMPORTERS": IMPORTERS,
    }


# --- helpers ---------------------------------------------------------------------------------------
def area_name(code: str | None) -> str:
    """ "เขตพระนคร", "อำเภอบางคล้า" (the code when unknown)."""
    area = get_area(code)
    return area.full_name_th if area else (code or "")


def province_name(code: str | None) -> str:
    province = get_province(code)
    return province.name_th if province else (code or "")


def user_scope() -> dict[str, str | None]:
    """The user's own province, district and agency (what the services limit them to)."""
    user = g.user
    district = user.district_code
    province = getattr(user, "province_code", None) or (district[:2] if district else None)
    return {"province_code": province, "area_code": district, "agency": getattr(user, "agency", None)}


def province_options() -> list[tuple[str, str]]:
    return [(p.code, f"{p.code} {p.name_th}") for p in provinces()]


def area_options(province_code: str | None) -> list[tuple[str, str]]:
    if not province_code:
        return []
    return [(a.code, f"{a.code} {a.full_name_th}") for a in districts_of(province_code)]


def agency_options() -> list[tuple[str, str]]:
    return [(a.code, a.name_th) for a in AGENCIES]


def _clean_id(raw: str) -> str:
    return _SEPARATORS.sub("", raw or "")[:40]


def _be_to_iso(
    form: Mapping[str, str], name: str, errors: dict[str, str], *, required: bool = True
) -> str | None:
    """A วว/ดด/ปปปป (พ.ศ.) form date as the API's ISO date; the Thai error goes beside the field."""
    raw = (form.get(name) or "").strip()
    if not raw:
        if required:
            errors[name] = "กรุณากรอกวันที่ (วว/ดด/ปปปป พ.ศ.)"
        return None
    try:
        return parse_be_date(raw, field=name).isoformat()
    except ValidationError as exc:
        errors[name] = exc.message
        return None


def _be(iso: str | None) -> str:
    """An API date as it was typed (วว/ดด/ปปปป พ.ศ.), for forms shown again."""
    if not iso:
        return ""
    year, month, day = (int(p) for p in iso[:10].split("-"))
    return f"{day:02d}/{month:02d}/{year + 543}"


def _page_arg() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) <= 100_000 else 1


def _message(r: ApiResult) -> str:
    """The sentence above a form: the API's own, or a plain Thai one when the fields say it all."""
    if r.status == 400 and r.field_errors:
        return "ข้อมูลไม่ถูกต้อง กรุณาแก้ไขช่องที่มีข้อความสีแดง"
    return r.message


def _retry_wait(r: ApiResult) -> str:
    seconds = str(r.headers.get("Retry-After", "")).strip()
    return f" {int(seconds):,} วินาที" if seconds.isdigit() else "สักครู่"


# --- the public self-check ---------------------------------------------------------------------------
@bp.route("/check", methods=["GET", "POST"])
def check() -> ResponseReturnValue:
    """ตรวจสอบสิทธิ์การเข้าร่วมมาตรการ (for everyone, no login): participant or not, group, places."""
    if request.method == "GET":
        return render_template("welfare_card/check.html", errors={}, value="")
    try:
        csrf.protect()
    except CSRFError:
        message = "แบบฟอร์มหมดอายุ กรุณากรอกเลขประจำตัวประชาชนอีกครั้ง"
        return render_template("welfare_card/check.html", errors={}, value="", error=message), 400
    raw = (request.form.get("national_id") or "")[:40]
    try:
        national_id = parse_national_id(_clean_id(raw))
    except ValidationError as exc:  # the check digit is checked here, before anything is asked
        return render_template("welfare_card/check.html", errors={"national_id": exc.message}, value=raw), 400
    r = gateway_api("GET", f"/api/public/welfare-card/{national_id}")
    if r.status == 429:
        message = THROTTLED.format(wait=_retry_wait(r))
        return render_template(
            "welfare_card/check.html", errors={}, value=raw, error=message, throttled=True
        ), 429
    if not r.ok or not isinstance(r.data, dict):
        error = r.message or "ระบบขัดข้องชั่วคราว กรุณาลองใหม่อีกครั้ง"
        return render_template(
            "welfare_card/check.html", errors=r.field_errors, value=raw, error=error
        ), r.status
    return render_template(
        "welfare_card/check.html",
        errors={},
        value="",
        answer=r.data,
        masked=mask_national_id(national_id),
    )


# --- MIS summary -------------------------------------------------------------------------------------
PEOPLE = (
    Series("participants", "ผู้เข้าร่วมมาตรการ (ราย)", "#9fb3c8", money=False),
    Series("developed", "พัฒนาแล้วเสร็จ (ราย)", "#0b5394", money=False),
)
DEVELOPED = (
    Series("developed", "พัฒนาแล้วเสร็จ (ราย)", "#027a48", money=False),
    Series("not_developed", "ยังไม่ได้รับการพัฒนา (ราย)", "#f79009", money=False),
)
RECORDS = (
    Series("records", "ผลการพัฒนาที่บันทึก (รายการ)", "#0b5394", money=False),
    Series("late_records", "บันทึกล่าช้า (รายการ)", "#b42318", money=False),
)
DAILY = (
    Series("developments", "ผลการพัฒนา", "#0b5394", money=False),
    Series("follow_ups", "การติดตาม", "#027a48", money=False),
    Series("intents", "แจ้งความประสงค์", "#f79009", money=False),
)
COVERAGE = (
    Series("participants", "ผู้เข้าร่วมมาตรการ (ราย)", "#9fb3c8", money=False),
    Series("followed_up", "ติดตามแล้ว (ราย)", "#027a48", money=False),
)


def _summary_charts(data: Mapping[str, Any]) -> dict[str, Any]:
    national = not data.get("province_code")
    places = data["by_province"] if national else data["by_area"]
    place_label = (lambda x: x["province_name"]) if national else (lambda x: x["area_name"])
    where = "จังหวัด" if national else "เขต/อำเภอ"
    rounds = data.get("follow_up_rounds") or []
    latest = next((r for r in reversed(rounds) if r["followed_up"]), rounds[-1] if rounds else None)
    charts = {
        "places": bar_chart(
            places,
            label=place_label,
            series=PEOPLE,
            horizontal=True,
            title=f"ผู้เข้าร่วมมาตรการและผู้ที่พัฒนาแล้วเสร็จ แยกตาม{where}",
        ),
        "agencies": bar_chart(
            data["by_agency"],
            label=lambda x: x["agency_name"],
            series=DEVELOPED,
            horizontal=True,
            title="พัฒนาแล้วเสร็จและยังไม่ได้รับการพัฒนา แยกตามหน่วยงานพัฒนา",
        ),
        "projects": bar_chart(
            sorted(data["by_project"], key=lambda x: -x["records"])[:25],
            label=lambda x: x["project_name"],
            series=RECORDS,
            horizontal=True,
            title="ผลการพัฒนาที่บันทึก แยกตามโครงการ (25 โครงการแรก)",
        ),
        "daily": bar_chart(
            data["daily"][-60:],
            label=lambda x: format_be_date_short(x["date"]),
            series=DAILY,
            horizontal=False,
            title="จำนวนที่บันทึกรายวัน (60 วันล่าสุดที่มีการบันทึก)",
        ),
    }
    if latest is not None:
        area_rows = latest["by_area"] if not national else _coverage_by_province(latest["by_area"])
        charts["coverage"] = bar_chart(
            area_rows,
            label=place_label,
            series=COVERAGE,
            horizontal=True,
            title=f"ความครอบคลุมการติดตาม{latest['round_name']} แยกตาม{where}",
        )
    return charts


def _coverage_by_province(areas: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for a in areas:
        row = out.setdefault(
            a["province_code"], {"province_name": a["province_name"], "participants": 0, "followed_up": 0}
        )
        row["participants"] += a["participants"]
        row["followed_up"] += a["followed_up"]
    return [out[k] for k in sorted(out)]


def format_be_date_short(iso: str) -> str:
    """``2019-06-21`` → ``21/06/62`` (chart labels are short)."""
    year, month, day = (int(p) for p in iso[:10].split("-"))
    return f"{day:02d}/{month:02d}/{(year + 543) % 100:02d}"


@bp.route("/")
def summary() -> ResponseReturnValue:
    """สรุปผลมาตรการ (MIS): participants, development, follow-up coverage and daily recording, with charts."""
    require_page_roles(*READERS)
    params = {
        n: request.args.get(n, "").strip()
        for n in ("province_code", "area_code", "agency")
        if request.args.get(n, "").strip()
    }
    r = api("GET", "/api/reporting/welfare-card/summary", params=params)
    data = r.data if r.ok else None
    scope = user_scope()
    role = g.user.role
    choose_province = role == "central_admin" or (role == "agency_recorder" and not scope["province_code"])
    choose_area = role in ("central_admin", "provincial_secretariat", "agency_recorder")
    chosen_province = params.get("province_code") or (None if choose_province else scope["province_code"])
    xlsx = "/api/reporting/welfare-card/summary.xlsx" + (f"?{urlencode(params)}" if params else "")
    return render_template(
        "welfare_card/summary.html",
        data=data,
        charts=_summary_charts(data) if data else {},
        error=_message(r),
        errors=r.field_errors,
        params=params,
        xlsx=xlsx,
        choose_province=choose_province,
        choose_area=choose_area and bool(chosen_province),
        choose_agency=role != "agency_recorder",
        province_options=province_options(),
        area_options=area_options(chosen_province),
        agency_options=agency_options(),
    ), (200 if r.ok else r.status)


# --- participants ----------------------------------------------------------------------------------
def _participant_filters() -> dict[str, str]:
    return {
        n: request.args.get(n, "").strip()
        for n in ("province_code", "area_code", "agency", "group", "q")
        if request.args.get(n, "").strip()
    }


def _render_participants(
    *,
    status: int = 200,
    open_errors: dict[str, str] | None = None,
    open_value: str = "",
    open_error: str = "",
) -> ResponseReturnValue:
    filters = _participant_filters()
    page = _page_arg()
    r = api(
        "GET", "/api/intake/welfare-card/participants", params={**filters, "page": page, "per_page": PER_PAGE}
    )
    scope = user_scope()
    province = filters.get("province_code") or scope["province_code"]
    return render_template(
        "welfare_card/participants.html",
        items=r.data.get("items", []) if r.ok else [],
        total=r.data.get("total", 0) if r.ok else 0,
        page=page,
        per_page=PER_PAGE,
        filters=filters,
        error=_message(r),
        errors=r.field_errors,
        open_errors=open_errors or {},
        open_value=open_value,
        open_error=open_error,
        choose_province=g.user.role == "central_admin"
        or (g.user.role == "agency_recorder" and not scope["province_code"]),
        choose_area=g.user.district_code is None and bool(province),
        province_options=province_options(),
        area_options=area_options(province),
        agency_options=agency_options(),
    ), (status if r.ok else r.status)


@bp.route("/participants")
def participants() -> ResponseReturnValue:
    """ผู้เข้าร่วมมาตรการ: the participants within the user's scope (masked national IDs), and a box
    to open one by national ID."""
    require_page_roles(*READERS)
    return _render_participants()


@bp.route("/participants/open", methods=["POST"])
def open_participant() -> ResponseReturnValue:
    """Open a participant by national ID: checked here first, then kept in the session (not in a URL)."""
    require_page_roles(*READERS)
    raw = (request.form.get("national_id") or "")[:40]
    try:
        national_id = parse_national_id(_clean_id(raw))
    except ValidationError as exc:
        return _render_participants(status=400, open_errors={"national_id": exc.message}, open_value=raw)
    r = api("GET", f"/api/intake/welfare-card/participants/{national_id}")
    if r.status == 404:
        message = "ไม่พบผู้เข้าร่วมมาตรการที่มีเลขประจำตัวประชาชนนี้ในขอบเขตงานของท่าน"
        return _render_participants(status=404, open_errors={"national_id": message}, open_value=raw)
    if not r.ok:
        return _render_participants(status=r.status, open_error=r.message, open_value=raw)
    _remember_participant(national_id)
    return redirect(url_for("welfare_card.participant"), 303)


def _remember_participant(national_id: str | None) -> None:
    """Keep the participant being viewed server-side: the national ID never goes into the cookie."""
    sid = session.get("sid")
    if sid:
        with ctx().sessions.begin() as db:
            sessions.remember(db, sid, _PARTICIPANT_KEY, national_id)


def _current_national_id() -> str | None:
    db = ctx().read_sessions()
    try:
        value = sessions.recall(db, session.get("sid"), _PARTICIPANT_KEY)
    finally:
        db.close()
    return value if isinstance(value, str) and len(value) == 13 and value.isdigit() else None


def _render_participant(
    national_id: str,
    *,
    status: int = 200,
    dev_errors: dict[str, str] | None = None,
    dev_values: Mapping[str, str] | None = None,
    dev_error: str = "",
    fu_errors: dict[str, str] | None = None,
    fu_values: Mapping[str, str] | None = None,
    fu_error: str = "",
) -> ResponseReturnValue:
    r = api("GET", f"/api/intake/welfare-card/participants/{national_id}")
    if r.status == 404:
        _remember_participant(None)
        flash("ไม่พบผู้เข้าร่วมมาตรการรายนี้ในขอบเขตงานของท่านแล้ว", "error")
        return redirect(url_for("welfare_card.participants"), 303)
    if not r.ok:
        return render_template("welfare_card/message.html", title="ผู้เข้าร่วมมาตรการ", error=r.message), r.status
    person = r.data
    projects: list[dict[str, Any]] = []
    rounds: list[dict[str, Any]] = []
    if g.user.role in DEVELOPMENT_RECORDERS:
        pr = api("GET", "/api/intake/welfare-card/projects", params={"active": "true"})
        projects = pr.data if pr.ok and isinstance(pr.data, list) else []
    if g.user.role in FOLLOW_UP_RECORDERS:
        ph = api("GET", "/api/intake/welfare-card/phases")
        rounds = ph.data.get("rounds", []) if ph.ok and isinstance(ph.data, dict) else []
    return render_template(
        "welfare_card/participant.html",
        person=person,
        masked=mask_national_id(national_id),
        project_options=[(str(p["id"]), _project_label(p)) for p in projects],
        round_options=[(x["code"], x["name_th"]) for x in rounds],
        rounds={x["code"]: x for x in rounds},
        dev_errors=dev_errors or {},
        dev_values=dev_values or {},
        dev_error=dev_error,
        fu_errors=fu_errors or {},
        fu_values=fu_values or {"round": rounds[-1]["code"] if rounds else ""},
        fu_error=fu_error,
        be=_be,
    ), status


def _project_label(p: Mapping[str, Any]) -> str:
    owner = AGENCY_NAMES.get(p.get("agency") or "", "") or (
        f"จังหวัด{province_name(p.get('province_code'))}" if p.get("province_code") else ""
    )
    return f"{p['name_th']} ({owner})" if owner else p["name_th"]


@bp.route("/participant")
def participant() -> ResponseReturnValue:
    """One participant: their results and follow-ups, and the forms to record them."""
    require_page_roles(*READERS)
    national_id = _current_national_id()
    if national_id is None:
        return redirect(url_for("welfare_card.participants"), 303)
    return _render_participant(national_id)


@bp.route("/participant/developments", methods=["POST"])
def record_development() -> ResponseReturnValue:
    """บันทึกผลการพัฒนา: a project's result for the open participant (the same project again corrects it)."""
    require_page_roles(*DEVELOPMENT_RECORDERS)
    national_id = _current_national_id()
    if national_id is None:
        return redirect(url_for("welfare_card.participants"), 303)
    form = request.form
    values = {k: form.get(k, "") for k in ("project", "result", "recorded_on", "note")}
    errors: dict[str, str] = {}
    recorded_on = _be_to_iso(form, "recorded_on", errors)
    if not values["project"].isdigit():
        errors["project"] = "กรุณาเลือกโครงการ"
    if not values["result"]:
        errors["result"] = "กรุณาเลือกผลการพัฒนา"
    if errors:
        return _render_participant(
            national_id,
            status=400,
            dev_errors=errors,
            dev_values=values,
            dev_error="ข้อมูลไม่ถูกต้อง กรุณาแก้ไขช่องที่มีข้อความสีแดง",
        )
    body = {
        "project": int(values["project"]),
        "result": values["result"],
        "recorded_on": recorded_on,
        "note": values["note"].strip() or None,
    }
    r = api("POST", f"/api/intake/welfare-card/participants/{national_id}/developments", json=body)
    if not r.ok:
        return _render_participant(
            national_id, status=r.status, dev_errors=r.field_errors, dev_values=values, dev_error=_message(r)
        )
    late = " (บันทึกหลังกำหนด)" if r.data.get("late") else ""
    flash(("แก้ไขผลการพัฒนาแล้ว" if r.status == 200 else "บันทึกผลการพัฒนาแล้ว") + late, "ok")
    return redirect(url_for("welfare_card.participant"), 303)


@bp.route("/participant/follow-ups", methods=["POST"])
def record_follow_up() -> ResponseReturnValue:
    """บันทึกผลการติดตาม: the open participant's progress for a round (the same round again corrects it)."""
    require_page_roles(*FOLLOW_UP_RECORDERS)
    national_id = _current_national_id()
    if national_id is None:
        return redirect(url_for("welfare_card.participants"), 303)
    form = request.form
    values = {k: form.get(k, "") for k in ("round", "progress", "recorded_on", "note")}
    errors: dict[str, str] = {}
    recorded_on = _be_to_iso(form, "recorded_on", errors)
    if not values["round"]:
        errors["round"] = "กรุณาเลือกรอบการติดตาม"
    if not values["progress"]:
        errors["progress"] = "กรุณาเลือกความคืบหน้า"
    if errors:
        return _render_participant(
            national_id,
            status=400,
            fu_errors=errors,
            fu_values=values,
            fu_error="ข้อมูลไม่ถูกต้อง กรุณาแก้ไขช่องที่มีข้อความสีแดง",
        )
    body = {
        "round": values["round"],
        "progress": values["progress"],
        "recorded_on": recorded_on,
        "note": values["note"].strip() or None,
    }
    r = api("POST", f"/api/intake/welfare-card/participants/{national_id}/follow-ups", json=body)
    if not r.ok:
        return _render_participant(
            national_id, status=r.status, fu_errors=r.field_errors, fu_values=values, fu_error=_message(r)
        )
    late = " (บันทึกหลังกำหนด)" if r.data.get("late") else ""
    flash(("แก้ไขผลการติดตามแล้ว" if r.status == 200 else "บันทึกผลการติดตามแล้ว") + late, "ok")
    return redirect(url_for("welfare_card.participant"), 303)


# --- intents (แบบย่อ) --------------------------------------------------------------------------------
INTENT_FIELDS = (
    "national_id",
    "title",
    "first_name",
    "last_name",
    "phone",
    "agency",
    "place_id",
    "registered_on",
)


def _render_intents(
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    error: str = "",
) -> ResponseReturnValue:
    page = _page_arg()
    r = api("GET", "/api/intake/welfare-card/intents", params={"page": page, "per_page": PER_PAGE})
    area = user_scope()["area_code"]
    places = api("GET", "/api/intake/welfare-card/registration-places", params={"area_code": area})
    place_items = places.data if places.ok and isinstance(places.data, list) else []
    return render_template(
        "welfare_card/intents.html",
        items=r.data.get("items", []) if r.ok else [],
        total=r.data.get("total", 0) if r.ok else 0,
        page=page,
        per_page=PER_PAGE,
        list_error=r.message,
        errors=errors or {},
        values=values or {},
        error=error,
        agency_options=agency_options(),
        place_options=[(str(p["id"]), p["name"]) for p in place_items],
        place_names={p["id"]: p["name"] for p in place_items},
    ), (status if r.ok else r.status)


@bp.route("/intents")
def intents() -> ResponseReturnValue:
    """แจ้งความประสงค์เข้าร่วมมาตรการ (แบบย่อ): the district's registrations and the form."""
    require_page_roles(*INTENT_RECORDERS)
    return _render_intents()


@bp.route("/intents", methods=["POST"])
def register_intent() -> ResponseReturnValue:
    """Record a citizen's wish to join, in the user's district."""
    require_page_roles(*INTENT_RECORDERS)
    form = request.form
    values = {k: form.get(k, "") for k in INTENT_FIELDS}
    errors: dict[str, str] = {}
    registered_on = _be_to_iso(form, "registered_on", errors)
    national_id = _clean_id(values["national_id"])
    try:
        national_id = parse_national_id(national_id)
    except ValidationError as exc:
        errors["national_id"] = exc.message
    if errors:
        return _render_intents(
            status=400, errors=errors, values=values, error="ข้อมูลไม่ถูกต้อง กรุณาแก้ไขช่องที่มีข้อความสีแดง"
        )
    body: dict[str, Any] = {
        "national_id": national_id,
        "title": values["title"].strip() or None,
        "first_name": values["first_name"].strip(),
        "last_name": values["last_name"].strip(),
        "phone": _clean_id(values["phone"]) or None,
        "agency": values["agency"] or None,
        "place_id": int(values["place_id"]) if values["place_id"].isdigit() else None,
        "registered_on": registered_on,
    }
    r = api("POST", "/api/intake/welfare-card/intents", json=body)
    if not r.ok:
        return _render_intents(status=r.status, errors=r.field_errors, values=values, error=_message(r))
    flash(f"บันทึกการแจ้งความประสงค์ของ {body['first_name']} {body['last_name']} แล้ว", "ok")
    return redirect(url_for("welfare_card.intents"), 303)


# --- registration places ----------------------------------------------------------------------------
def _render_places(
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    error: str = "",
) -> ResponseReturnValue:
    scope = user_scope()
    role = g.user.role
    province = request.args.get("province_code", "").strip() or scope["province_code"]
    area = scope["area_code"] or request.args.get("area_code", "").strip()
    params = {"area_code": area, "province_code": None if area else province, "all": "true"}
    r = api("GET", "/api/intake/welfare-card/registration-places", params=params)
    form_province = (values or {}).get("province_code") or province
    return render_template(
        "welfare_card/places.html",
        items=r.data if r.ok and isinstance(r.data, list) else [],
        list_error=r.message,
        province=province,
        area=area,
        errors=errors or {},
        values=values or {},
        error=error,
        choose_province=role == "central_admin",
        choose_area=scope["area_code"] is None,
        province_options=province_options(),
        area_options=area_options(province),
        form_area_options=area_options(form_province),
    ), (status if r.ok else r.status)


@bp.route("/places")
def places() -> ResponseReturnValue:
    """สถานที่รับแจ้งความประสงค์: a district's places (shown on the public check page) and the form."""
    require_page_roles(*PLACE_WRITERS)
    return _render_places()


@bp.route("/places", methods=["POST"])
def add_place() -> ResponseReturnValue:
    """Add a registration place (a district team: to their own district)."""
    require_page_roles(*PLACE_WRITERS)
    form = request.form
    values = {k: form.get(k, "") for k in ("area_code", "name", "address")}
    body = {
        "area_code": user_scope()["area_code"] or values["area_code"] or None,
        "name": values["name"],
        "address": values["address"].strip() or None,
    }
    r = api("POST", "/api/intake/welfare-card/registration-places", json=body)
    if not r.ok:
        return _render_places(status=r.status, errors=r.field_errors, values=values, error=_message(r))
    flash(f'เพิ่มสถานที่รับแจ้ง "{r.data["name"]}" แล้ว จะแสดงในหน้าตรวจสอบสิทธิ์สำหรับประชาชน', "ok")
    return redirect(url_for("welfare_card.places", area_code=r.data["area_code"]), 303)


@bp.route("/places/<int:place_id>/active", methods=["POST"])
def set_place_active(place_id: int) -> ResponseReturnValue:
    """Show a place on the public page again, or take it off."""
    require_page_roles(*PLACE_WRITERS)
    active = request.form.get("active") == "1"
    r = api("PATCH", f"/api/intake/welfare-card/registration-places/{place_id}", json={"active": active})
    if r.status == 404:
        abort(404)
    if not r.ok:
        flash(r.message, "error")
    else:
        flash("แสดงสถานที่นี้ในหน้าตรวจสอบสิทธิ์แล้ว" if active else "นำสถานที่นี้ออกจากหน้าตรวจสอบสิทธิ์แล้ว", "ok")
    return redirect(url_for("welfare_card.places", area_code=(r.data or {}).get("area_code", "")), 303)


# --- projects ------------------------------------------------------------------------------------------
def _render_projects(
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    error: str = "",
) -> ResponseReturnValue:
    r = api("GET", "/api/intake/welfare-card/projects")
    return render_template(
        "welfare_card/projects.html",
        items=r.data if r.ok and isinstance(r.data, list) else [],
        list_error=r.message,
        errors=errors or {},
        values=values or {},
        error=error,
        central=g.user.role == "central_admin",
        province_options=province_options(),
        agency_options=agency_options(),
        kind_options=list(PROJECT_KINDS.items()),
    ), (status if r.ok else r.status)


@bp.route("/projects")
def projects() -> ResponseReturnValue:
    """โครงการพัฒนา: the agencies' projects and the provinces' additional projects."""
    require_page_roles(*PROJECT_WRITERS)
    return _render_projects()


@bp.route("/projects", methods=["POST"])
def add_project() -> ResponseReturnValue:
    """Add a project: an agency recorder's is their agency's, a secretariat's their province's."""
    require_page_roles(*PROJECT_WRITERS)
    form = request.form
    values = {k: form.get(k, "") for k in ("name_th", "kind", "agency", "province_code")}
    body: dict[str, Any] = {"name_th": values["name_th"]}
    if g.user.role == "central_admin":
        body |= {
            "kind": values["kind"] or None,
            "agency": values["agency"] or None,
            "province_code": values["province_code"] or None,
        }
    r = api("POST", "/api/intake/welfare-card/projects", json=body)
    if not r.ok:
        return _render_projects(status=r.status, errors=r.field_errors, values=values, error=_message(r))
    flash(f'เพิ่มโครงการ "{r.data["name_th"]}" แล้ว', "ok")
    return redirect(url_for("welfare_card.projects"), 303)


# --- participants list import ---------------------------------------------------------------------------
def _render_imports(
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    error: str = "",
) -> ResponseReturnValue:
    page = _page_arg()
    r = api("GET", "/api/intake/welfare-card/imports", params={"page": page, "per_page": PER_PAGE})
    scope = user_scope()
    return render_template(
        "welfare_card/imports.html",
        items=r.data.get("items", []) if r.ok else [],
        total=r.data.get("total", 0) if r.ok else 0,
        page=page,
        per_page=PER_PAGE,
        list_error=r.message,
        errors=errors or {},
        values=values or {"province_code": scope["province_code"] or "", "agency": scope["agency"] or ""},
        error=error,
        fixed_province=scope["province_code"] if g.user.role == "provincial_secretariat" else None,
        fixed_agency=scope["agency"] if g.user.role == "agency_recorder" else None,
        province_options=province_options(),
        agency_options=agency_options(),
    ), (status if r.ok else r.status)


@bp.route("/imports")
def imports() -> ResponseReturnValue:
    """นำเข้ารายชื่อผู้เข้าร่วมมาตรการ: earlier imports and the upload form."""
    require_page_roles(*IMPORTERS)
    return _render_imports()


@bp.route("/imports", methods=["POST"])
def upload_import() -> ResponseReturnValue:
    """Upload a list (xlsx/csv) for a province and agency; intake's worker applies it (progress page)."""
    require_page_roles(*IMPORTERS)
    scope = user_scope()
    values = {
        "province_code": scope["province_code"]
        if g.user.role == "provincial_secretariat"
        else request.form.get("province_code", ""),
        "agency": scope["agency"] if g.user.role == "agency_recorder" else request.form.get("agency", ""),
    }
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _render_imports(
            status=400,
            errors={"file": "กรุณาเลือกไฟล์รายชื่อ (.xlsx หรือ .csv)"},
            values=values,
            error="ข้อมูลไม่ถูกต้อง กรุณาแก้ไขช่องที่มีข้อความสีแดง",
        )
    r = api(
        "POST",
        "/api/intake/welfare-card/imports",
        data=values,
        files={"file": (upload.filename, upload.stream, upload.mimetype or "application/octet-stream")},
        timeout=300,
    )
    if not r.ok:
        return _render_imports(status=r.status, errors=r.field_errors, values=values, error=_message(r))
    return redirect(url_for("welfare_card.import_detail", import_id=r.data["import_id"]), 303)


@bp.route("/imports/<int:import_id>")
def import_detail(import_id: int) -> ResponseReturnValue:
    """An import: progress while intake's worker applies it, then what it did (or every refused line)."""
    require_page_roles(*IMPORTERS)
    r = api("GET", f"/api/intake/welfare-card/imports/{import_id}")
    if r.status == 404:
        abort(404)
    if not r.ok:
        return render_template("welfare_card/message.html", title="นำเข้ารายชื่อ", error=r.message), r.status
    return render_template("welfare_card/import.html", imp=r.data)
