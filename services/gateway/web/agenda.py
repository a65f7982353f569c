"""Pages: จัดทำรายการขออนุมัติเงิน
(approval): the agenda, committee decisions, the meeting and closing into a batch.

Every page calls approval's JSON API as the logged-in user (``client.api``); approval checks the
role and district again.  The home page's work lists (:func:`home_work`) live here too, since
most of them are the committee's.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from services.gateway.web.client import api
from services.gateway.web.views import require_login, require_page_roles
from shared.errors import ValidationError
from shared.thai import fiscal_year, format_be_date, parse_be_date

bp = Blueprint("agenda", __name__, url_prefix="/agenda", template_folder="templates")
bp.before_request(require_login)

DECIDERS = ("officer", "head")  # prepare the agenda; only the head closes it
#: (endpoint, Thai label, roles that see it); see views.MENU.
MENU: list[tuple[str, str, tuple[str, ...] | None]] = [
    ("agenda.index", "จัดทำรายการขออนุมัติเงิน", DECIDERS),
]

BANGKOK = dt.timezone(dt.timedelta(hours=7), "Asia/Bangkok")
BATCH_STATUS = {
    "locking": ("กำลังล็อกเคส", ""),
    "approved": ("อนุมัติแล้ว", "good"),
    "failed": ("ไม่สำเร็จ", "bad"),
    "settled": ("จ่ายเงินเสร็จสิ้น", "good"),
}
CASE_STATUS = {
    "on_agenda": "รอเข้าที่ประชุม",
    "deferred": "นำออกจากที่ประชุมชั่วคราว",
    "disqualified": "ขาดคุณสมบัติ",
    "in_batch": "อนุมัติแล้ว (อยู่ในรายการอนุมัติ)",
}
PAYOUT_STATES = {
    "pending": "รอโอนเงิน",
    "sent": "ส่งไฟล์โอนเงินแล้ว",
    "review": "รอตรวจสอบ",
    "failed": "โอนไม่สำเร็จ รอแก้ไข",
    "paid": "จ่ายสำเร็จ",
    "closed_failed": "จ่ายไม่สำเร็จ (ปิดรายการ)",
    "reversed": "ธนาคารตีกลับการโอน รอแก้ไขข้อมูลบัญชี",
}
REGULATION_HEADING = (
    "เบิกจ่ายตามระเบียบ กรุงเทพมหานคร ว่าด้วยค่าใช้จ่ายในการจัดสวัสดิการและการสงเคราะห์ พ.ศ.2557"
    " และที่แก้ไขเพิ่มเติม (ฉบับที่ 2) พ.ศ.2564"
)
LOCK_WARNING = (
    "เมื่อคลิกปุ่มนี้แล้ว รายการเคสในรายชื่อนี้ทั้งหมดจะไม่สามารถแก้ไขข้อมูลทั่วไปของเคสรวมถึงแก้ไขเอกสาร"
    "ที่เกี่ยวข้องและเอกสารทางการเงิน จะแก้ไขได้เพียงข้อมูลทางการเงิน เท่านั้น"
)
HEAD_ONLY = (
    "เฉพาะหัวหน้าฝ่ายพัฒนาชุมชนและสวัสดิการสังคมเท่านั้นที่จัดทำรายงานขออนุมัติเงินได้ "
    "เมื่อจัดการรายชื่อเคสเรียบร้อยแล้ว กรุณาแจ้งหัวหน้าฝ่ายให้ตรวจสอบและจัดทำรายงาน"
)
CHANGED_SINCE = (
    "รายการเคสในที่ประชุมเปลี่ยนไปหลังจากที่เปิดหน้านี้ (มีเคสเพิ่ม นำออก หรือแก้ไขจำนวนเงิน) "
    "ยังไม่ได้จัดทำรายงาน กรุณาตรวจสอบรายการด้านล่างอีกครั้ง"
)


# --- helpers shared with the report pages and the home page -----------------------------------------
def api_day(value: str | None) -> dt.date | None:
    """An API date (``YYYY-MM-DD``) as a date, for the ``be_date`` filter."""
    return dt.date.fromisoformat(value[:10]) if value else None


def api_moment(value: str | None) -> dt.datetime | None:
    """An API timestamp (ISO, UTC) in Bangkok time."""
    if not value:
        return None
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(BANGKOK)


def be_moment(value: str | None) -> str:
    """``dd/mm/yyyy HH:MM`` (Buddhist era, Bangkok time) of an API timestamp; "" when empty."""
    moment = api_moment(value)
    return f"{format_be_date(moment)} {moment:%H:%M} น." if moment else ""


def today() -> dt.date:
    """Today in Bangkok."""
    return dt.datetime.now(BANGKOK).date()


def current_fiscal_year() -> int:
    """The Buddhist-era fiscal year of today."""
    return fiscal_year(today())


def template_helpers() -> dict[str, Any]:
    """Functions and labels the agenda, report and home templates use."""
    return {
        "api_day": api_day,
        "be_moment": be_moment,
        "batch_status": BATCH_STATUS,
        "case_status": CASE_STATUS,
        "payout_states": PAYOUT_STATES,
        "regulation_heading": REGULATION_HEADING,
    }


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return template_helpers()


def intake_details(case_ids: set[str], statuses: tuple[str, ...]) -> tuple[dict[str, Any], str]:
    """Intake's list rows (masked national ID, age) of the given cases, looked up by status.

    Approval never receives national IDs; the committee's screens show intake's masked one, as the
    manual's agenda does.  Returns the rows by case id and an error message ("" when all went well).
    """
    found: dict[str, Any] = {}
    for status in statuses:
        if case_ids <= found.keys():
            break
        r = api("GET", "/api/intake/cases", params={"status": status, "per_page": 500})
        if not r.ok:
            return found, r.message
        found.update({c["id"]: c for c in r.data.get("items", []) if c.get("id") in case_ids})
    return found, ""


def _back(default: str = "agenda") -> str:
    """Where a decision returns to: the home page or the agenda (never an outside address)."""
    return url_for("web.home") if request.values.get("back", default) == "home" else url_for("agenda.index")


def _load_case(case_id: str) -> dict[str, Any]:
    r = api("GET", f"/api/approval/cases/{case_id}")
    if r.status == 404:
        abort(404)
    if not r.ok:
        return {"_error": r.message}
    return dict(r.data)


def _agenda() -> tuple[dict[str, Any], str]:
    r = api("GET", "/api/approval/agenda")
    if not r.ok:
        return {"items": [], "count": 0, "total_amount": "0.00", "closing": None}, r.message
    return dict(r.data), ""


def _fingerprint(agenda: dict[str, Any]) -> str:
    """What the head confirmed: every case with its amount (a change between pages is noticed)."""
    return ",".join(sorted(f"{i['case_id']}:{i['amount']}" for i in agenda["items"]))


# --- the agenda ------------------------------------------------------------------------------------
@bp.route("/")
def index() -> ResponseReturnValue:
    """The district's current agenda with its count and total, and the committee's actions."""
    require_page_roles(*DECIDERS)
    agenda, error = _agenda()
    details, details_error = intake_details(
        {i["case_id"] for i in agenda["items"]}, ("on_agenda", "registered")
    )
    return render_template(
        "agenda/index.html",
        agenda=agenda,
        error=error,
        details=details,
        details_error=details_error,
        can_close=g.user.role == "head",
        head_only=HEAD_ONLY,
    )


@bp.route("/print")
def print_view() -> ResponseReturnValue:
    """พิมพ์รายชื่อเคส: the agenda as the list the committee prints for its meeting."""
    require_page_roles(*DECIDERS)
    agenda, error = _agenda()
    return render_template("agenda/print.html", agenda=agenda, error=error, printed_on=today())


# --- one case: edit (the committee's resolution), defer, restore, not qualified --------------------
def _welfare_types() -> tuple[list[dict[str, Any]], str]:
    r = api("GET", "/api/intake/welfare-types")
    if not r.ok:
        return [], r.message
    items = r.data if isinstance(r.data, list) else r.data.get("items", [])
    return list(items), ""


def _amendment(case: dict[str, Any], form: dict[str, str]) -> dict[str, str]:
    """The fields of the committee's resolution that differ from the case (nothing if none)."""
    body: dict[str, str] = {}
    code = form.get("welfare_type_code", "").strip()
    if code and code != case.get("welfare_type_code"):
        body["welfare_type_code"] = code
    amount = form.get("amount", "").strip().replace(",", "")
    try:
        same = Decimal(amount) == Decimal(case.get("amount") or "0")
    except InvalidOperation:
        same = False  # let approval name what is wrong with it
    if not same:
        body["amount"] = amount
    return body


@bp.route("/cases/<case_id>/edit", methods=["GET", "POST"])
def edit(case_id: str) -> ResponseReturnValue:
    """แก้ไขข้อมูลเคสในที่ประชุมสำนักงานเขต: welfare type and amount, and off / back on the agenda."""
    require_page_roles(*DECIDERS)
    case = _load_case(case_id)
    welfare_types, types_error = _welfare_types()
    form: dict[str, str] = {
        "welfare_type_code": case.get("welfare_type_code", ""),
        "amount": case.get("amount", ""),
    }
    context = {"case": case, "welfare_types": welfare_types, "types_error": types_error, "back": _back()}
    if request.method == "GET" or "_error" in case:
        return render_template("agenda/edit.html", form=form, errors={}, message="", **context)
    form = {k: request.form.get(k, "") for k in ("welfare_type_code", "amount")}
    move = request.form.get("move") == "1"
    body = _amendment(case, form)
    done: list[str] = []
    if body:
        r = api("PATCH", f"/api/approval/agenda/{case_id}", json=body)
        if not r.ok:
            errors = r.field_errors
            return render_template(
                "agenda/edit.html", form=form, errors=errors, message=r.message, **context
            ), r.status
        done.append("บันทึกการแก้ไขตามมติที่ประชุมแล้ว")
    if move:
        deferred = case.get("status") == "deferred"
        path = (
            f"/api/approval/deferred/{case_id}/restore"
            if deferred
            else f"/api/approval/agenda/{case_id}/defer"
        )
        r = api("POST", path)
        if not r.ok:
            for line in done:
                flash(line, "ok")
            context["case"] = _load_case(case_id)
            return render_template(
                "agenda/edit.html", form=form, errors={}, message=r.message, **context
            ), r.status
        done.append("นำเคสกลับเข้าที่ประชุมแล้ว" if deferred else "นำเคสออกจากที่ประชุมชั่วคราวแล้ว")
    for line in done or ["ไม่มีการเปลี่ยนแปลง"]:
        flash(f"{case.get('case_no')}: {line}", "ok")
    return redirect(context["back"], 303)


@bp.route("/cases/<case_id>/defer", methods=["POST"])
def defer(case_id: str) -> ResponseReturnValue:
    """นำออกจากที่ประชุมชั่วคราว: the case waits on the home page."""
    require_page_roles(*DECIDERS)
    r = api("POST", f"/api/approval/agenda/{case_id}/defer")
    if r.ok:
        flash(f"{r.data.get('case_no')}: นำเคสออกจากที่ประชุมชั่วคราวแล้ว (ดูได้ที่หน้าหลัก)", "ok")
    else:
        flash(r.message, "error")
    return redirect(_back(), 303)


@bp.route("/cases/<case_id>/restore", methods=["POST"])
def restore(case_id: str) -> ResponseReturnValue:
    """นำกลับเข้าที่ประชุม: a deferred case goes back on the agenda."""
    require_page_roles(*DECIDERS)
    r = api("POST", f"/api/approval/deferred/{case_id}/restore")
    if r.ok:
        flash(f"{r.data.get('case_no')}: นำเคสกลับเข้าที่ประชุมแล้ว", "ok")
    else:
        flash(r.message, "error")
    return redirect(_back("home"), 303)


@bp.route("/cases/<case_id>/disqualify", methods=["GET", "POST"])
def disqualify(case_id: str) -> ResponseReturnValue:
    """บันทึกขาดคุณสมบัติ: the committee's final "not qualified", with its reason."""
    require_page_roles(*DECIDERS)
    case = _load_case(case_id)
    back = _back()
    if request.method == "GET" or "_error" in case:
        return render_template(
            "agenda/disqualify.html", case=case, reason="", errors={}, message="", back=back
        )
    reason = request.form.get("reason", "")
    if not reason.strip():
        errors = {"reason": "กรุณาระบุสาเหตุการขาดคุณสมบัติ"}
        return render_template(
            "agenda/disqualify.html", case=case, reason=reason, errors=errors, message="", back=back
        ), 400
    r = api("POST", f"/api/approval/cases/{case_id}/disqualify", json={"reason": reason.strip()})
    if not r.ok:
        return render_template(
            "agenda/disqualify.html",
            case=case,
            reason=reason,
            errors=r.field_errors,
            message=r.message,
            back=back,
        ), r.status
    flash(f"{case.get('case_no')}: บันทึกขาดคุณสมบัติแล้ว", "ok")
    return redirect(back, 303)


# --- meetings --------------------------------------------------------------------------------------
def _meetings(year: int, page: int = 1, per_page: int = 20) -> tuple[dict[str, Any], str]:
    r = api("GET", "/api/approval/meetings", params={"fiscal_year": year, "page": page, "per_page": per_page})
    return (dict(r.data), "") if r.ok else ({"items": [], "total": 0}, r.message)


def _page() -> int:
    try:
        return max(1, min(int(request.args.get("page", "1")), 100_000))
    except ValueError:
        return 1


@bp.route("/meetings", methods=["GET", "POST"])
def meetings() -> ResponseReturnValue:
    """บันทึกการประชุม: the committee's meetings of the fiscal year and a form to record one."""
    require_page_roles(*DECIDERS)
    year, page = current_fiscal_year(), _page()
    form = {"meeting_date": format_be_date(today()), "number": "", "attendees": "", "notes": ""}
    errors: dict[str, str] = {}
    message, status = "", 200
    if request.method == "POST":
        form = {k: request.form.get(k, "") for k in form}
        attendees = [line.strip() for line in form["attendees"].splitlines() if line.strip()]
        try:
            meeting_date = parse_be_date(form["meeting_date"].strip(), "meeting_date")
        except ValidationError as exc:
            errors["meeting_date"] = exc.message
        if not errors:
            body = {
                "meeting_date": meeting_date.isoformat(),
                "number": form["number"].strip(),
                "attendees": attendees,
                "notes": form["notes"].strip(),
            }
            r = api("POST", "/api/approval/meetings", json=body)
            if r.ok:
                flash(f"บันทึกการประชุมครั้งที่ {r.data.get('number')} แล้ว", "ok")
                return redirect(url_for("agenda.meetings"), 303)
            errors = {k.split(".")[0]: v for k, v in r.field_errors.items()}
            message, status = r.message, r.status
        else:
            message, status = "ข้อมูลไม่ถูกต้อง: วันที่ประชุม", 400
    listing, list_error = _meetings(year, page)
    return render_template(
        "agenda/meetings.html",
        form=form,
        errors=errors,
        message=message,
        listing=listing,
        list_error=list_error,
        year=year,
        page=page,
    ), status


# --- closing the agenda into an approval batch -----------------------------------------------------
def _close_page(status: int = 200, **extra: Any) -> ResponseReturnValue:
    agenda, error = _agenda()
    year = current_fiscal_year()
    listing, _ = _meetings(year, 1, 50)
    context: dict[str, Any] = {
        "agenda": agenda,
        "error": error,
        "meetings": listing["items"],
        "fingerprint": _fingerprint(agenda),
        "lock_warning": LOCK_WARNING,
        "head_only": HEAD_ONLY,
        "can_close": g.user.role == "head",
        "form": {"meeting_id": "", "meeting_date": format_be_date(today())},
        "errors": {},
        "message": "",
    }
    context.update(extra)
    if not context["can_close"]:
        status = 403
    return render_template("agenda/close.html", **context), status


@bp.route("/close", methods=["GET", "POST"])
def close() -> ResponseReturnValue:
    """จัดทำรายงานขออนุมัติเงินทั้งหมด: confirm what will be locked, then close (head only)."""
    require_page_roles(*DECIDERS)
    if request.method == "GET" or g.user.role != "head":
        return _close_page()
    form = {k: request.form.get(k, "").strip() for k in ("meeting_id", "meeting_date")}
    agenda, error = _agenda()
    if error:
        return _close_page(503, message=error, form=form)
    if request.form.get("fingerprint", "") != _fingerprint(agenda):
        return _close_page(409, message=CHANGED_SINCE, form=form)
    body: dict[str, str] = {}
    if form["meeting_id"]:
        body["meeting_id"] = form["meeting_id"]
    else:
        try:
            body["meeting_date"] = parse_be_date(form["meeting_date"], "meeting_date").isoformat()
        except ValidationError as exc:
            return _close_page(400, errors={"meeting_date": exc.message}, form=form)
    r = api("POST", "/api/approval/batches", json=body)
    if not r.ok:
        return _close_page(r.status, errors=r.field_errors, message=r.message, form=form)
    return redirect(url_for("agenda.progress", batch_id=r.data["batch_id"]), 303)


@bp.route("/batches/<batch_id>/progress")
def progress(batch_id: str) -> ResponseReturnValue:
    """The closing's progress until intake has locked the cases; then the batch page."""
    require_page_roles(*DECIDERS)
    r = api("GET", f"/api/approval/batches/{batch_id}")
    if r.status == 404:
        abort(404)
    if r.ok and r.data.get("status") in ("approved", "settled"):
        flash(f"อนุมัติแล้ว: {r.data.get('title')}", "ok")
        return redirect(url_for("reports.batch", batch_id=batch_id), 303)
    return render_template(
        "agenda/progress.html",
        batch=r.data if r.ok else None,
        error=r.message,
        done_url=url_for("agenda.progress", batch_id=batch_id),
    )


# --- the home page ---------------------------------------------------------------------------------
def home_work(user: Any) -> dict[str, Any]:
    """What waits for this user on the home page, by role (each part from the APIs, errors kept)."""
    work: dict[str, Any] = {"fiscal_year": current_fiscal_year(), "errors": {}, **template_helpers()}
    errors: dict[str, str] = work["errors"]
    role = user.role
    if role in DECIDERS:
        r = api("GET", "/api/approval/deferred")
        work["deferred"] = r.data if r.ok else None
        if not r.ok:
            errors["deferred"] = r.message
        else:
            ids = {i["case_id"] for i in r.data["items"]}
            work["details"], errors["details"] = intake_details(ids, ("deferred", "on_agenda", "registered"))
        r = api("GET", "/api/approval/agenda")
        work["agenda"] = r.data if r.ok else None
        if not r.ok:
            errors["agenda"] = r.message
    if role in ("officer", "head", "finance", "central_admin"):
        params: dict[str, Any] = {"fiscal_year": work["fiscal_year"]}
        r = api("GET", "/api/reporting/summary", params=params)
        work["summary"] = r.data if r.ok else None
        if not r.ok:
            errors["summary"] = r.message
    if role in ("officer", "head", "finance"):
        r = api("GET", "/api/payment/batches", params={"status": "open", "per_page": 50})
        work["payouts"] = r.data if r.ok else None
        if not r.ok:
            errors["payouts"] = r.message
    return work
