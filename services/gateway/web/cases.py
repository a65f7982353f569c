"""Pages: บันทึกข้อมูลเคส / แสดงข้อมูลเคส
(intake): the national-ID check, the case form, search and a case's detail.

Every page calls intake's JSON API as the logged-in user (``client.api``); intake checks the role
and the district again.  The recording follows the manual (§3): step 1 checks the national ID
against every earlier case in every district, step 2 records the case with its two PDFs.  The
national ID checked in step 1 travels to step 2 in a signed token, so it cannot be changed there
without starting again.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from collections.abc import Mapping
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from itsdangerous import BadSignature, URLSafeTimedSerializer

from services.gateway.web.client import ApiResult, api, page_params
from services.gateway.web.views import require_login, require_page_roles
from shared.districts import get_district
from shared.errors import ValidationError
from shared.thai import fiscal_year, format_baht, format_be_date, format_national_id, parse_be_date

bp = Blueprint("cases", __name__, url_prefix="/cases", template_folder="templates")
bp.before_request(require_login)
#: บันทึกข้อมูลเคส, nested under ``bp`` (login required the same way) so that the menu marks
#: บันทึกข้อมูลเคส, not แสดงข้อมูลเคส, while recording.
record_bp = Blueprint("record", __name__, url_prefix="/new")

#: Who records and edits cases (intake's writers).
RECORDERS = ("officer", "head")
#: Who looks cases up on these pages.
READERS = ("officer", "head", "central_admin")

#: (endpoint, Thai label, roles that see it); see views.MENU.
MENU: list[tuple[str, str, tuple[str, ...] | None]] = [
    ("cases.record.check", "บันทึกข้อมูลเคส", RECORDERS),
    ("cases.index", "แสดงข้อมูลเคส", READERS),
]

BANGKOK = dt.timezone(dt.timedelta(hours=7))
PER_PAGE = 20
#: How long a national-ID check stays good for the form of step 2 (a working day).
CHECK_MAX_AGE = 8 * 3600

# Thai names of intake's codes (the same words intake uses; the gateway may not import a service).
STATUS_TH = {
    "registered": "บันทึกข้อมูลเคสแล้ว รอเข้าที่ประชุม",
    "on_agenda": "อยู่ในรายการขออนุมัติเงิน (รอที่ประชุมพิจารณา)",
    "deferred": "นำออกจากที่ประชุมชั่วคราว",
    "disqualified": "ขาดคุณสมบัติ",
    "approved": "อนุมัติเงิน",
    "paying": "อยู่ระหว่างโอนเงิน",
    "paid": "จ่ายเงินแล้ว",
    "payment_failed": "จ่ายเงินไม่สำเร็จ",
    "reversed": "ธนาคารตีกลับการโอน รอแก้ไขข้อมูลบัญชี",
}
#: Statuses after which nothing of the case can change (the buttons are hidden; intake refuses).
FINAL_STATUSES = frozenset({"disqualified", "paid", "payment_failed"})
GOOD_STATUSES = frozenset({"approved", "paying", "paid"})
CASE_TYPE_TH = {"disabled": "เคสผู้พิการ", "general": "เคสประชาชนทั่วไป"}
SEX_TH = {"male": "ชาย", "female": "หญิง"}
TITLES = ("นาย", "นาง", "นางสาว", "เด็กชาย", "เด็กหญิง")
DOCUMENT_KINDS = ("related", "financial")
DOCUMENT_TH = {"related": "เอกสารที่เกี่ยวข้อง", "financial": "เอกสารทางการเงิน"}
DOCUMENT_HINT = {
    "related": "แบบคำร้อง สำเนาบัตรประจำตัวประชาชน สำเนาทะเบียนบ้าน สำเนาบัตรประจำตัวคนพิการ (กรณีคนพิการ)"
    " และเอกสารอื่น ๆ สแกนรวมเป็นไฟล์ PDF ไฟล์เดียว",
    "financial": "สำเนาสมุดบัญชีธนาคาร แบบฟอร์ม K-corp1 หนังสือมอบอำนาจ (ถ้ามี)"
    " และสำเนาบัตรของผู้มอบและผู้รับมอบอำนาจ สแกนรวมเป็นไฟล์ PDF ไฟล์เดียว",
}
SCOPE_TH = {
    "per_case": "ต่อครั้ง",
    "per_person_fy": "ต่อคนต่อปีงบประมาณ",
    "per_family_fy": "ต่อครอบครัวต่อปีงบประมาณ",
}
FIELD_TH = {
    "national_id": "เลขประจำตัวประชาชน",
    "title": "คำนำหน้า",
    "sex": "เพศ",
    "first_name": "ชื่อ",
    "last_name": "นามสกุล",
    "birth_date": "วันเดือนปีเกิด",
    "disabled": "ความพิการ",
    "house_id": "รหัสประจำบ้าน",
    "welfare_type_code": "ประเภทเงินสงเคราะห์",
    "programme_code": "โครงการ",
    "amount": "จำนวนเงิน",
    "hardship": "รายละเอียดความเดือดร้อน",
    "bank": "บัญชีธนาคาร",
    "phone": "หมายเลขโทรศัพท์",
    "email": "อีเมล",
    "related": "เอกสารที่เกี่ยวข้อง",
    "financial": "เอกสารทางการเงิน",
    "status": "สถานะ",
    "locked_batch_id": "รายการอนุมัติเงิน",
    "visited_on": "วันที่เยี่ยมบ้าน",
    "findings": "ผลการเยี่ยมบ้าน",
    "bank.bank_code": "ชื่อธนาคาร",
    "bank.branch_code": "รหัสสาขาของธนาคาร",
    "bank.account_name": "ชื่อบัญชีธนาคาร",
    "bank.account_no": "หมายเลขบัญชีธนาคาร",
    "q": "ค้นหา",
    "fiscal_year": "ปีงบประมาณ",
    "district_code": "สำนักงานเขต",
}
#: What happened to a case: audit actions and status-history kinds (``case.<kind>``).
ACTION_TH = {
    "case.record": "บันทึกข้อมูลเคส",
    "case.registered": "บันทึกข้อมูลเคส",
    "case.read": "เปิดดูข้อมูลเคส (แสดงเลขประจำตัวประชาชนและเลขบัญชีเต็ม)",
    "case.update": "แก้ไขข้อมูลเคส",
    "case.updated": "แก้ไขข้อมูลเคส",
    "document.upload": "อัปโหลดเอกสาร",
    "document.replace": "เปลี่ยนไฟล์เอกสาร",
    "document.download": "ดาวน์โหลดเอกสาร",
    "home_visit.record": "บันทึกการเยี่ยมบ้าน",
    "case.home_visit": "บันทึกการเยี่ยมบ้าน",
    "case.lock": "ล็อกเคสเข้ารายการอนุมัติเงิน",
    "case.locked": "ล็อกเคสเข้ารายการอนุมัติเงิน",
    "case.amend": "ที่ประชุมแก้ไขประเภทเงินสงเคราะห์/จำนวนเงิน",
    "case.amended": "ที่ประชุมแก้ไขประเภทเงินสงเคราะห์/จำนวนเงิน",
    "case.bank_details_corrected": "แก้ไขข้อมูลบัญชีธนาคาร (ฝ่ายการเงิน)",
    "case.placed_on_agenda": "เข้ารายการขออนุมัติเงิน",
    "case.deferred": "นำออกจากที่ประชุมชั่วคราว",
    "case.restored": "นำกลับเข้าที่ประชุม",
    "case.disqualified": "บันทึกขาดคุณสมบัติ",
    "case.approved": "อนุมัติเงิน",
    "case.transfer_failed": "โอนเงินไม่สำเร็จ (รอแก้ไขและโอนใหม่)",
    "case.paid": "จ่ายเงินแล้ว",
    "case.payment_failed": "ปิดรายการ: จ่ายเงินไม่สำเร็จ",
    "case.reversed": "ธนาคารตีกลับการโอน (รอแก้ไขข้อมูลบัญชี)",
}

#: The case form's fields, named like the API's (nested ones joined with dots).
FORM_FIELDS = (
    *("title", "sex", "first_name", "last_name", "birth_date", "house_id"),
    *("welfare_type_code", "programme_code", "amount", "hardship"),
    *("bank.bank_code", "bank.branch_code", "bank.account_name", "bank.account_no", "phone", "email"),
)

_SEPARATORS = re.compile(r"[\s\-]")
_NATIONAL_ID = re.compile(r"[0-9]{13}", re.ASCII)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
#: What a case id in a page URL may look like before it goes into an API path (intake's are UUIDs).
_CASE_ID = re.compile(r"[0-9A-Za-z-]{1,64}")


# --- helpers ---------------------------------------------------------------------------------------
def _parse_dt(value: Any) -> dt.datetime | dt.date | None:
    """An ISO date or date-time of the API (date-times in Bangkok time)."""
    if not value:
        return None
    text = str(value)
    if len(text) == 10:
        return dt.date.fromisoformat(text)
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(BANGKOK)


def _iso_date(value: Any) -> str:
    """The Bangkok date of an API date-time as ``YYYY-MM-DD`` (for cases.js)."""
    parsed = _parse_dt(value)
    return parsed.date().isoformat() if isinstance(parsed, dt.datetime) else ""


def _today() -> dt.date:
    return dt.datetime.now(BANGKOK).date()


def _file_size(n: Any) -> str:
    size = int(n or 0)
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):,.1f} MB"
    if size >= 1024:
        return f"{size / 1024:,.0f} KB"
    return f"{size:,} ไบต์"


@bp.url_value_preprocessor
def _check_case_id(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    """A case id that cannot be one (``%3F`` and the like) is not found, and never reaches an API path."""
    if values and "case_id" in values and not _CASE_ID.fullmatch(values["case_id"]):
        abort(404)


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "file_size": _file_size,
        "district_name": _district_name,
        "STATUS_TH": STATUS_TH,
        "FINAL_STATUSES": FINAL_STATUSES,
        "GOOD_STATUSES": GOOD_STATUSES,
        "CASE_TYPE_TH": CASE_TYPE_TH,
        "SEX_TH": SEX_TH,
        "DOCUMENT_TH": DOCUMENT_TH,
        "DOCUMENT_HINT": DOCUMENT_HINT,
        "FIELD_TH": FIELD_TH,
        "ACTION_TH": ACTION_TH,
        "RECORDERS": RECORDERS,
    }


def _district_name(code: str | None) -> str:
    district = get_district(code) if code else None
    return district.name_th if district else (code or "-")


def _require(result: ApiResult) -> Any:
    """The data of a call that must succeed for the page to make sense (else a Thai error page)."""
    if result.ok:
        return result.data
    if result.status in (403, 404):
        abort(result.status)
    abort(_service_error(result))


def _service_error(result: ApiResult) -> Any:
    body = render_template("error.html", status=result.status, message=result.message)
    return make_response(body, result.status if result.status >= 400 else 502)


class Catalogue:
    """The reference lists a case form needs: welfare types, programmes, banks (one call each)."""

    def __init__(self) -> None:
        self.welfare_types: list[dict[str, Any]] = _require(api("GET", "/api/intake/welfare-types"))
        self.programmes: list[dict[str, Any]] = _require(api("GET", "/api/intake/programmes"))
        self.banks: list[dict[str, Any]] = _require(api("GET", "/api/intake/banks"))

    def welfare_name(self, code: str | None) -> str:
        for wt in self.welfare_types:
            if wt["code"] == code:
                return str(wt["name_th"])
        return code or "-"

    def programme_name(self, code: str | None) -> str:
        for p in self.programmes:
            if p["code"] == code:
                return str(p["name_th"])
        return code or "-"

    def bank(self, code: str | None) -> dict[str, Any] | None:
        return next((b for b in self.banks if b["code"] == code), None)

    def ceiling_text(self, wt: Mapping[str, Any]) -> str:
        if not wt.get("ceiling"):
            return "ไม่กำหนดวงเงิน"
        scope = SCOPE_TH.get(wt.get("ceiling_scope"), "")
        return f"วงเงินไม่เกิน {format_baht(wt['ceiling'])} บาท {scope}".strip()


# --- the check token -------------------------------------------------------------------------------
def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="ecase.cases.national-id-check")


def _check_token(national_id: str) -> str:
    return str(_serializer().dumps({"nid": national_id, "u": g.user.username}))


def _checked_national_id(token: str) -> str | None:
    """The national ID step 1 checked for this user, or None (tampered, someone else's, too old)."""
    try:
        data = _serializer().loads(token, max_age=CHECK_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != g.user.username:
        return None
    nid = data.get("nid")
    return nid if isinstance(nid, str) and _NATIONAL_ID.fullmatch(nid) else None


def _clean_national_id(raw: str) -> str:
    return _SEPARATORS.sub("", raw or "")


# --- forms ↔ API bodies -----------------------------------------------------------------------------
def _form_values(form: Mapping[str, str]) -> dict[str, str]:
    """What the person typed, to show again beside the errors."""
    values = {n: form.get(n, "") for n in FORM_FIELDS}
    values["disabled"] = "1" if form.get("disabled") else ""
    return values


def _detail_values(case: Mapping[str, Any]) -> dict[str, str]:
    """A case as the edit form shows it (dates in the Buddhist era)."""
    bank = case.get("bank") or {}
    birth = _parse_dt(case.get("birth_date"))
    return {
        "title": case.get("title") or "",
        "sex": case.get("sex") or "",
        "first_name": case.get("first_name") or "",
        "last_name": case.get("last_name") or "",
        "birth_date": format_be_date(birth) if birth else "",
        "disabled": "1" if case.get("disabled") else "",
        "house_id": case.get("house_id") or "",
        "welfare_type_code": case.get("welfare_type_code") or "",
        "programme_code": case.get("programme_code") or "",
        "amount": case.get("amount") or "",
        "hardship": case.get("hardship") or "",
        "bank.bank_code": bank.get("bank_code") or "",
        "bank.branch_code": bank.get("branch_code") or "",
        "bank.account_name": bank.get("account_name") or "",
        "bank.account_no": bank.get("account_no") or "",
        "phone": case.get("phone") or "",
        "email": case.get("email") or "",
    }


def _amount(raw: str) -> str:
    """People type ``3,000`` or ``3 000``; the API wants ``3000``."""
    return re.sub(r"[,\s]", "", raw)


def _bank_body(values: Mapping[str, str]) -> dict[str, Any]:
    bank: dict[str, Any] = {
        "bank_code": values["bank.bank_code"].strip(),
        "branch_code": values["bank.branch_code"].strip() or None,
        "account_name": values["bank.account_name"].strip(),
        "account_no": values["bank.account_no"].strip(),
    }
    if not bank["bank_code"]:
        bank.pop("bank_code")  # → "กรุณากรอกข้อมูลช่องนี้" beside the bank
    return bank


def _case_body(values: Mapping[str, str], *, for_patch: bool) -> tuple[dict[str, Any], dict[str, str]]:
    """The JSON body of ``POST``/``PATCH /cases`` and the errors the page found itself.

    A required field left empty is left out of a new case (the API answers "กรุณากรอกข้อมูลช่องนี้")
    and sent empty in an edit (leaving it out would mean "no change").  A birth date that is not a
    Buddhist-era ``วว/ดด/ปปปป`` is sent empty, so the API still checks every other field and saves
    nothing; the page's own message is shown beside it.
    """
    errors: dict[str, str] = {}
    body: dict[str, Any] = {
        "title": values["title"].strip(),
        "sex": values["sex"] or None,
        "first_name": values["first_name"].strip(),
        "last_name": values["last_name"].strip(),
        "disabled": bool(values["disabled"]),
        "house_id": values["house_id"].strip() or None,
        "welfare_type_code": values["welfare_type_code"] or None,
        "programme_code": values["programme_code"] or None,
        "amount": _amount(values["amount"]) or None,
        "hardship": values["hardship"].strip(),
        "bank": _bank_body(values),
        "phone": _SEPARATORS.sub("", values["phone"]) or None,
        "email": values["email"].strip() or None,
    }
    birth = values["birth_date"].strip()
    body["birth_date"] = None
    if birth:
        try:
            body["birth_date"] = parse_be_date(birth, field="birth_date").isoformat()
        except ValidationError as exc:
            errors["birth_date"] = exc.message
    if not for_patch:
        for name in ("title", "sex", "first_name", "last_name", "birth_date", "welfare_type_code", "amount"):
            if not body[name]:
                body.pop(name)
        if not body["hardship"]:
            body.pop("hardship")
    return body, errors


def _message(result: ApiResult) -> str:
    """The API's sentence for the top of the form; schema errors name their fields in Thai.

    A 400 ``bad_request`` says ``ข้อมูลไม่ถูกต้อง: phone, bank.account_no`` (the API's names); the page
    names the same fields as its labels do.
    """
    if result.ok:
        return ""
    if result.code == "bad_request" and result.field_errors:
        names = [FIELD_TH.get(name, name) for name in result.field_errors]
        return f"ข้อมูลไม่ถูกต้อง: {', '.join(names)} (ดูข้อความสีแดงใต้ช่อง)"
    return result.message


def _merge_errors(result: ApiResult, own: Mapping[str, str]) -> dict[str, str]:
    errors = dict(result.field_errors)
    errors.update(own)  # the page's own words about a birth date beat the API's "missing"
    return errors


# --- บันทึกข้อมูลเคส: step 1, the check ----------------------------------------------------------------
def _check_values(form: Mapping[str, str]) -> dict[str, str]:
    return {
        n: form.get(n, "").strip()
        for n in ("national_id", "welfare_type_code", "amount", "house_id", "programme_code")
    }


@record_bp.route("", methods=["GET", "POST"])
def check() -> ResponseReturnValue:
    """บันทึกข้อมูลเคส, step 1: the national ID against every earlier case, with the warnings."""
    require_page_roles(*RECORDERS)
    catalogue = Catalogue()
    if request.method == "GET":
        return render_template("cases/check.html", values={}, errors={}, catalogue=catalogue)
    values = _check_values(request.form)
    nid = _clean_national_id(values["national_id"])
    if not _NATIONAL_ID.fullmatch(nid):
        errors = {"national_id": "กรุณากรอกเลขประจำตัวประชาชนเป็นตัวเลขอารบิก 13 หลัก"}
        return render_template("cases/check.html", values=values, errors=errors, catalogue=catalogue), 400
    params = {
        "welfare_type_code": values["welfare_type_code"],
        "amount": _amount(values["amount"]),
        "house_id": values["house_id"],
        "programme_code": values["programme_code"],
    }
    result = api("GET", f"/api/intake/citizens/{nid}/history", params=params)
    if not result.ok:
        return render_template(
            "cases/check.html",
            values=values,
            errors=result.field_errors,
            message=_message(result),
            catalogue=catalogue,
        ), result.status
    return render_template(
        "cases/check.html",
        values=values,
        errors={},
        catalogue=catalogue,
        history=result.data,
        national_id=nid,
        national_id_shown=format_national_id(nid),
        token=_check_token(nid),
    )


# --- บันทึกข้อมูลเคส: step 2, the form --------------------------------------------------------------------
@record_bp.route("/form", methods=["POST"])
def form() -> ResponseReturnValue:
    """บันทึกข้อมูลเคส, step 2: every field of the case and the two PDFs (after the check only)."""
    require_page_roles(*RECORDERS)
    token = request.form.get("check_token", "")
    nid = _checked_national_id(token)
    if nid is None:
        flash("การตรวจสอบเลขประจำตัวประชาชนหมดอายุหรือไม่ถูกต้อง กรุณาตรวจสอบใหม่อีกครั้ง", "error")
        return redirect(url_for("cases.record.check"), 303)
    catalogue = Catalogue()
    values = _form_values(request.form)
    key = request.form.get("idempotency_key", "")
    context = {
        "catalogue": catalogue,
        "token": token,
        "idempotency_key": key if _UUID.fullmatch(key) else str(uuid.uuid4()),
        "national_id_shown": format_national_id(nid),
        "titles": TITLES,
    }
    if request.form.get("step") == "start":  # from step 1: an empty form, with what step 1 knew
        return render_template("cases/record.html", values=values, errors={}, **context)

    body, errors = _case_body(values, for_patch=False)
    uploads, file_errors = _read_uploads()
    if file_errors:
        errors.update(file_errors)
        return render_template("cases/record.html", values=values, errors=errors, **context), 400
    body["national_id"] = nid
    result = _record_once(body, context["idempotency_key"])
    if not result.ok or errors:
        errors = _merge_errors(result, errors)
        for kind in uploads:
            errors.setdefault(kind, "กรุณาเลือกไฟล์นี้อีกครั้ง (ไฟล์ที่เลือกไว้ยังไม่ได้ส่ง)")
        message = _message(result)
        status = result.status if not result.ok else 400
        return render_template(
            "cases/record.html", values=values, errors=errors, message=message, **context
        ), status
    case = result.data
    if result.headers.get("Idempotent-Replayed") == "true":  # the same form sent again
        flash(f"เคสนี้บันทึกไว้แล้ว เลขที่เคส {case['case_no']} (ไม่ได้บันทึกซ้ำ)", "ok")
        return redirect(url_for("cases.detail", case_id=case["id"]), 303)
    failed = _upload_documents(case["id"], uploads)
    done = [DOCUMENT_TH[k] for k in uploads if k not in failed]
    attached = f" แนบ{' และ'.join(done)}แล้ว" if done else ""
    flash(f"บันทึกข้อมูลเคสเรียบร้อยแล้ว เลขที่เคส {case['case_no']}{attached}", "ok")
    for kind, message in failed.items():
        flash(f"แนบ{DOCUMENT_TH[kind]}ไม่สำเร็จ: {message} — กรุณาแนบใหม่ในส่วนเอกสารด้านล่าง", "error")
    return redirect(url_for("cases.detail", case_id=case["id"]), 303)


def _record_once(body: dict[str, Any], key: str) -> ApiResult:
    """``POST /cases`` with the form's Idempotency-Key: a form sent twice records one case.

    While the first sending is still being recorded intake answers 409
    ``idempotency_in_progress``; the page asks again until it gets the first answer (replayed).
    """
    deadline = time.monotonic() + 20
    while True:
        result = api("POST", "/api/intake/cases", json=body, headers={"Idempotency-Key": key})
        if result.code != "idempotency_in_progress" or time.monotonic() > deadline:
            return result
        time.sleep(0.3)


def _read_uploads() -> tuple[dict[str, tuple[str, bytes]], dict[str, str]]:
    """The chosen PDFs; a file that is plainly not a PDF is refused before the case is recorded.

    Intake checks every upload itself (type, size, completeness); this is only so that the usual
    mistake — choosing the wrong file — does not leave a case recorded without its document.
    """
    uploads: dict[str, tuple[str, bytes]] = {}
    errors: dict[str, str] = {}
    for kind in DOCUMENT_KINDS:
        storage = request.files.get(kind)
        if storage is None or not storage.filename:
            continue
        content = storage.read()
        if not content:
            errors[kind] = "ไฟล์ว่างเปล่า กรุณาเลือกไฟล์ PDF"
        elif not content.startswith(b"%PDF-"):
            errors[kind] = f"ไฟล์ {storage.filename} ไม่ใช่ไฟล์ PDF กรุณาเลือกไฟล์ PDF"
        else:
            uploads[kind] = (storage.filename, content)
    if errors:
        for kind in uploads:
            errors.setdefault(kind, "กรุณาเลือกไฟล์นี้อีกครั้ง (ไฟล์ที่เลือกไว้ยังไม่ได้ส่ง)")
    return uploads, errors


def _upload(case_id: str, kind: str, name: str, content: bytes) -> ApiResult:
    return api(
        "POST",
        f"/api/intake/cases/{case_id}/documents",
        files={"file": (name, content, "application/pdf")},
        data={"kind": kind},
    )


def _upload_documents(case_id: str, uploads: Mapping[str, tuple[str, bytes]]) -> dict[str, str]:
    """Send the PDFs of a new case; the Thai message of each upload that failed."""
    failed: dict[str, str] = {}
    for kind, (name, content) in uploads.items():
        result = _upload(case_id, kind, name, content)
        if not result.ok:
            failed[kind] = result.field_errors.get("file") or result.message
    return failed


# --- แสดงข้อมูลเคส: search and list ----------------------------------------------------------------------
@bp.route("/")
def index() -> ResponseReturnValue:
    """แสดงข้อมูลเคส: search by national ID, name or case number, status, fiscal year, welfare type."""
    require_page_roles(*READERS)
    catalogue = Catalogue()
    filters = page_params("q", "status", "fiscal_year", "welfare_type_code", "district_code")
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    params: dict[str, Any] = {k: v for k, v in filters.items() if k != "q"}
    query = filters.get("q", "")
    if query and _NATIONAL_ID.fullmatch(_clean_national_id(query)):
        params["national_id"] = _clean_national_id(query)
    elif query:
        params["q"] = query
    result = api("GET", "/api/intake/cases", params={**params, "page": page, "per_page": PER_PAGE})
    errors = result.field_errors
    if "national_id" in errors:
        errors["q"] = errors.pop("national_id")
    current_fy = fiscal_year(_today())
    return render_template(
        "cases/index.html",
        catalogue=catalogue,
        filters=filters,
        items=(result.data or {}).get("items", []) if result.ok else [],
        total=(result.data or {}).get("total", 0) if result.ok else 0,
        page=page,
        per_page=PER_PAGE,
        errors=errors,
        message=_message(result),
        fiscal_years=range(current_fy, current_fy - 6, -1),
        city_wide=g.user.district_code is None,
        districts=_districts() if g.user.district_code is None else [],
    ), (200 if result.ok else result.status)


def _districts() -> list[dict[str, Any]]:
    result = api("GET", "/api/intake/districts")
    return list(result.data) if result.ok else []


# --- แสดงข้อมูลเคส: one case ---------------------------------------------------------------------------
def _detail_context(case_id: str) -> dict[str, Any]:
    case = _require(api("GET", f"/api/intake/cases/{case_id}"))
    catalogue = Catalogue()
    person = api("GET", f"/api/intake/citizens/{case['national_id']}/history")
    documents: dict[str, list[dict[str, Any]]] = {k: [] for k in DOCUMENT_KINDS}
    for doc in case.get("documents", []):
        url = f"/api/intake/cases/{case['id']}/documents/{doc['kind']}"
        doc["download_url"] = url if doc.get("replaced_at") is None else f"{url}?sha256={doc['sha256']}"
        documents.setdefault(doc["kind"], []).append(doc)
    for versions in documents.values():
        versions.sort(key=lambda d: d["uploaded_at"], reverse=True)
    return {
        "case": case,
        "catalogue": catalogue,
        "bank": catalogue.bank((case.get("bank") or {}).get("bank_code")),
        "documents": documents,
        "person": person.data if person.ok else None,
        "person_error": person.message,
        "can_write": g.user.role in RECORDERS,
        "closed": case["status"] in FINAL_STATUSES,
        "national_id_shown": format_national_id(case["national_id"]),
        "today": format_be_date(_today()),
    }


@bp.route("/<case_id>")
def detail(case_id: str) -> ResponseReturnValue:
    """A case: every field, documents (every version), home visits, history of the person, audit."""
    require_page_roles(*READERS)
    return render_template("cases/detail.html", errors={}, visit={}, **_detail_context(case_id))


@bp.route("/<case_id>/home-visit", methods=["POST"])
def home_visit(case_id: str) -> ResponseReturnValue:
    """Record the home visit (date, findings)."""
    require_page_roles(*RECORDERS)
    visit = {
        "visited_on": request.form.get("visited_on", "").strip(),
        "findings": request.form.get("findings", ""),
    }
    errors: dict[str, str] = {}
    body: dict[str, Any] = {"findings": visit["findings"].strip(), "visited_on": None}
    try:
        body["visited_on"] = parse_be_date(visit["visited_on"], field="visited_on").isoformat()
    except ValidationError as exc:
        errors["visited_on"] = exc.message
    if not body["findings"]:
        errors["findings"] = "กรุณากรอกผลการเยี่ยมบ้าน"
    result = None
    if not errors:
        result = api("POST", f"/api/intake/cases/{case_id}/home-visit", json=body)
        if result.ok:
            flash(f"บันทึกการเยี่ยมบ้านวันที่ {visit['visited_on']} แล้ว", "ok")
            return redirect(url_for("cases.detail", case_id=case_id, _anchor="visits"), 303)
        if result.status == 404:
            abort(404)
        errors = result.field_errors
    context = _detail_context(case_id)
    status = result.status if result is not None else 400
    message = _message(result) if result is not None else ""
    return render_template(
        "cases/detail.html", errors=errors, visit=visit, visit_message=message, **context
    ), status


@bp.route("/<case_id>/documents", methods=["POST"])
def upload_document(case_id: str) -> ResponseReturnValue:
    """Attach or replace the related or financial PDF (the earlier version stays on record)."""
    require_page_roles(*RECORDERS)
    kind = request.form.get("kind", "")
    if kind not in DOCUMENT_KINDS:
        abort(400)
    storage = request.files.get("file")
    errors: dict[str, str] = {}
    status = 400
    if storage is None or not storage.filename:
        errors[kind] = f"กรุณาเลือกไฟล์{DOCUMENT_TH[kind]} (PDF)"
    else:
        result = _upload(case_id, kind, storage.filename, storage.read())
        if result.ok:
            verb = "เปลี่ยนไฟล์" if request.form.get("replacing") else "แนบ"
            flash(f"{verb}{DOCUMENT_TH[kind]}แล้ว", "ok")
            return redirect(url_for("cases.detail", case_id=case_id, _anchor="documents"), 303)
        if result.status == 404:
            abort(404)
        errors[kind] = result.field_errors.get("file") or result.message
        status = result.status
    return render_template("cases/detail.html", errors=errors, visit={}, **_detail_context(case_id)), status


# --- แก้ไขข้อมูลเคส ---------------------------------------------------------------------------------------
@bp.route("/<case_id>/edit", methods=["GET", "POST"])
def edit(case_id: str) -> ResponseReturnValue:
    """Edit a case: every field but the national ID; once locked only bank, phone and e-mail."""
    require_page_roles(*RECORDERS)
    case = _require(api("GET", f"/api/intake/cases/{case_id}"))
    catalogue = Catalogue()
    context = {
        "case": case,
        "catalogue": catalogue,
        "titles": TITLES,
        "national_id_shown": format_national_id(case["national_id"]),
        "recorded_on": _iso_date(case.get("recorded_at")),
    }
    if case["status"] in FINAL_STATUSES:
        flash(f"เคสนี้สิ้นสุดแล้ว (สถานะ {STATUS_TH.get(case['status'], case['status'])}) แก้ไขไม่ได้", "error")
        return redirect(url_for("cases.detail", case_id=case_id), 303)
    if request.method == "GET":
        return render_template("cases/edit.html", values=_detail_values(case), errors={}, **context)

    values = {**_detail_values(case), **_form_values(request.form)}
    body, errors = _case_body(values, for_patch=True)
    if request.form.get("locked_form"):  # the form showed only what may still change
        body = {k: body[k] for k in ("bank", "phone", "email")}
        errors = {}
    # A full form opened before the case was locked sends every field: intake refuses (409) a
    # change of a locked field, and the page says so, rather than dropping that change silently.
    result = api("PATCH", f"/api/intake/cases/{case_id}", json=body)
    if result.ok and not errors:
        flash(f"บันทึกการแก้ไขเคส {case['case_no']} เรียบร้อยแล้ว", "ok")
        return redirect(url_for("cases.detail", case_id=case_id), 303)
    if result.status == 404:
        abort(404)
    if result.status == 409:  # locked or closed meanwhile: show the case as it is now
        context["case"] = _require(api("GET", f"/api/intake/cases/{case_id}"))
    return render_template(
        "cases/edit.html",
        values=values,
        errors=_merge_errors(result, errors),
        message=_message(result),
        conflict=result.status == 409,
        **context,
    ), (result.status if not result.ok else 400)


bp.register_blueprint(record_bp)
