"""Pages: จ่ายเงินประชาชน (payment): payout batches, files, result uploads, corrections and settlement.

Every page calls the payment service's JSON API as the logged-in user (docs/payment.md), so the
service checks role and district itself; the pages only hide what the role may not do.  The KTB
files are downloaded from the API paths themselves (static/payments.js fetches them so that a
refusal — lines that break the bank's rules, a past effective date — is shown on the page).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from services.gateway.web.client import ApiResult, api
from services.gateway.web.views import require_login, require_page_roles
from shared.banks import KTB_CODE, get_bank, mask_account_no, payable_banks
from shared.districts import DISTRICTS, get_district

bp = Blueprint("payments", __name__, url_prefix="/payments", template_folder="templates")
bp.before_request(require_login)

#: Who may read the pages (the API's readers: the district's officer too, as the manual's district
#: office follows its batches) and who may act (the district's finance officer and section head).
READERS = ("finance", "head", "officer", "central_admin")
ACTORS = ("finance", "head")
#: (endpoint, Thai label, roles that see it); see views.MENU.
MENU: list[tuple[str, str, tuple[str, ...] | None]] = [("payments.index", "จ่ายเงินประชาชน", READERS)]

BANGKOK = ZoneInfo("Asia/Bangkok")
STATES = ("pending", "sent", "review", "failed", "reversed", "paid", "closed_failed")
STATE_TH = {
    "pending": "รอจัดทำไฟล์",
    "sent": "รอผลการโอน",
    "review": "รอตรวจสอบ",
    "failed": "โอนไม่สำเร็จ",
    "reversed": "ธนาคารโอนคืน",
    "paid": "จ่ายสำเร็จ",
    "closed_failed": "ปิดจ่ายไม่สำเร็จ",
}
STATE_BADGE = {"paid": "good", "failed": "bad", "closed_failed": "bad", "review": "bad", "reversed": "bad"}
#: States whose bank details finance may correct, or which finance may close as not paid.
CORRECTABLE = ("pending", "failed", "reversed")
#: States that need finance (shown after an import).
ATTENTION = ("failed", "review", "reversed")
BATCH_STATUS_TH = {"open": "รอบันทึกการจ่าย", "settled": "บันทึกการจ่ายสำเร็จแล้ว"}
GROUP_TH = {"ktb": "ธนาคารกรุงไทย (Direct)", "other": "ธนาคารอื่น (Standard)"}
FILE_STATUS_TH = {"active": "ใช้งาน", "cancelled": "ยกเลิกแล้ว"}
IMPORT_STATUS_TH = {"queued": "กำลังนำเข้า", "done": "นำเข้าแล้ว", "rejected": "ไม่รับไฟล์"}
SHAPE_TH = {
    "ktb_report": "รายงานผลการโอนของ KTB",
    "normalised_csv": "ไฟล์ CSV รูปแบบมาตรฐาน",
    "fixed_width": "ไฟล์ข้อความความกว้างคงที่ (echo)",
}
ALERT_KIND_TH = {"contradiction": "ผลการโอนขัดแย้งกับที่บันทึกไว้", "duplicate_case": "เคสซ้ำในชุดจ่ายเงิน"}
SENDABLE = ("pending", "failed")


# --- helpers ----------------------------------------------------------------------------------------
def today() -> dt.date:
    """Today in Bangkok: the earliest effective date a file may carry."""
    return dt.datetime.now(BANGKOK).date()


def bank_name(code: str | None) -> str:
    """Thai name of a bank code (the code itself when unknown)."""
    bank = get_bank(code or "")
    return bank.name_th if bank else (code or "—")


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "bank_name": bank_name,
        "mask_account": mask_account_no,
        "STATES": STATES,
        "STATE_TH": STATE_TH,
        "STATE_BADGE": STATE_BADGE,
        "BATCH_STATUS_TH": BATCH_STATUS_TH,
        "GROUP_TH": GROUP_TH,
        "FILE_STATUS_TH": FILE_STATUS_TH,
        "IMPORT_STATUS_TH": IMPORT_STATUS_TH,
        "SHAPE_TH": SHAPE_TH,
        "ALERT_KIND_TH": ALERT_KIND_TH,
        "CORRECTABLE": CORRECTABLE,
        "can_act": g.get("user") is not None and g.user.role in ACTORS,
    }


def _readers() -> None:
    require_page_roles(*READERS)


def _actors() -> None:
    require_page_roles(*ACTORS)


def _read(path: str) -> ApiResult:
    """A read the page cannot do without; 404/403 become the Thai error pages."""
    r = api("GET", path)
    if r.status in (403, 404):
        abort(r.status)
    return r


def _unavailable(r: ApiResult) -> ResponseReturnValue:
    """The page when the service could not answer a read (503 and the like)."""
    return render_template("payments/error.html", message=r.message), r.status


def _groups(batch: dict[str, Any]) -> list[dict[str, Any]]:
    """Per file group: the lines still to send, the lines waiting for a result, the open file."""
    out = []
    for group in ("ktb", "other"):
        lines = [
            line for line in batch.get("lines", []) if (line["bank_code"] == KTB_CODE) == (group == "ktb")
        ]
        outstanding = [line for line in lines if line["state"] in SENDABLE]
        waiting = [line for line in lines if line["state"] in ("sent", "review")]
        open_files = [
            f
            for f in batch.get("files", [])
            if f["group"] == group and f["status"] == "active" and f.get("unresolved", 0) > 0
        ]
        out.append(
            {
                "group": group,
                "label": GROUP_TH[group],
                "lines": len(lines),
                "outstanding": len(outstanding),
                "outstanding_total": sum((_cents(line["amount"]) for line in outstanding), 0),
                "waiting": len(waiting),
                "open_file": max(open_files, key=lambda f: f["id"]) if open_files else None,
            }
        )
    return out


def _cents(amount: str) -> int:
    whole, _, frac = str(amount).partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


def baht_of(cents: int) -> str:
    """Satang as "1,234.50"."""
    return f"{cents // 100:,}.{cents % 100:02d}"


def _batch_page(batch_id: int, status: int = 200, **extra: Any) -> ResponseReturnValue:
    """The batch page (also re-rendered with an upload's or a file's error)."""
    r = _read(f"/api/payment/batches/{batch_id}")
    if not r.ok:
        return _unavailable(r)
    batch = r.data
    imports = api("GET", f"/api/payment/batches/{batch_id}/result-imports")
    district = get_district(batch["district_code"])
    return render_template(
        "payments/batch.html",
        batch=batch,
        groups=_groups(batch),
        imports=imports.data["items"] if imports.ok else [],
        imports_error=imports.message,
        district=district,
        today=today(),
        baht_of=baht_of,
        **extra,
    ), status


def _batch_and_line(batch_id: int, line_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    r = _read(f"/api/payment/batches/{batch_id}")
    if not r.ok:
        abort(404)
    batch = r.data
    line = next((x for x in batch["lines"] if x["id"] == line_id), None)
    if line is None:
        abort(404)
    return batch, line


def _line_page(batch_id: int, line_id: int, status: int = 200, **extra: Any) -> ResponseReturnValue:
    batch, line = _batch_and_line(batch_id, line_id)
    form = extra.pop("form", None) or {
        "bank_code": line["bank_code"],
        "branch_code": line.get("branch_code") or "",
        "account_name": line["account_name"],
        "account_no": line["account_no"] if not batch.get("accounts_masked") else "",
    }
    banks = [(b.code, f"{b.code} {b.name_th}") for b in payable_banks()]
    if line["bank_code"] not in {code for code, _ in banks}:
        banks.insert(0, (line["bank_code"], f"{line['bank_code']} {bank_name(line['bank_code'])}"))
    branch_banks = ",".join(b.code for b in payable_banks() if b.branch_code_required)
    return render_template(
        "payments/line.html",
        batch=batch,
        line=line,
        form=form,
        banks=banks,
        branch_banks=branch_banks,
        errors=extra.pop("errors", {}),
        **extra,
    ), status


# --- batches ----------------------------------------------------------------------------------------
@bp.route("/")
def index() -> ResponseReturnValue:
    """จ่ายเงินประชาชน: payout batches with counts per state, total and paid total."""
    _readers()
    status = request.args.get("status", "open")
    page = request.args.get("page", "1")
    params: dict[str, Any] = {
        "status": status if status in ("open", "settled") else None,
        "page": page if page.isdigit() and int(page) >= 1 else 1,
        "per_page": 20,
    }
    district_code = request.args.get("district_code", "").strip()
    if g.user.role == "central_admin":
        params["district_code"] = district_code
    r = api("GET", "/api/payment/batches", params=params)
    return render_template(
        "payments/list.html",
        result=r.data if r.ok else {"items": [], "total": 0},
        error=r.message,
        status=status,
        page=int(params["page"]),
        per_page=20,
        district_code=district_code,
        districts=[(d.code, f"{d.code} {d.name_th}") for d in DISTRICTS],
    ), (200 if r.ok else r.status)


@bp.route("/batches/<int:batch_id>")
def batch(batch_id: int) -> ResponseReturnValue:
    """A batch: its lines, file downloads per group, files made, result uploads and alerts."""
    _readers()
    return _batch_page(batch_id)


@bp.route("/batches/<int:batch_id>/results", methods=["POST"])
def upload_results(batch_id: int) -> ResponseReturnValue:
    """Upload the bank's result report; the payment worker imports it (progress on the import page)."""
    _actors()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _batch_page(batch_id, 400, upload_errors={"file": "กรุณาเลือกไฟล์รายงานผลการโอนเงินจากธนาคาร"})
    content = upload.read()
    r = api(
        "POST",
        f"/api/payment/batches/{batch_id}/results",
        files={"file": (upload.filename, content, upload.mimetype or "application/octet-stream")},
    )
    if not r.ok:
        return _batch_page(
            batch_id,
            r.status,
            upload_error=r.message,
            upload_lines=r.error.get("errors") or [],
        )
    # A duplicate answers at once (status done, duplicate_of): the import page says so.
    return redirect(url_for("payments.result_import", import_id=r.data["import_id"]), 303)


@bp.route("/imports/<int:import_id>")
def result_import(import_id: int) -> ResponseReturnValue:
    """An import: its progress while the worker runs, then what it did (paid, failed, review, unknown)."""
    _readers()
    r = _read(f"/api/payment/result-imports/{import_id}")
    if not r.ok:
        return _unavailable(r)
    imp = r.data
    b = _read(f"/api/payment/batches/{imp['batch_id']}")
    batch = b.data if b.ok else None
    attention = [line for line in (batch or {}).get("lines", []) if line["state"] in ATTENTION]
    return render_template("payments/import.html", imp=imp, batch=batch, attention=attention)


# --- lines ------------------------------------------------------------------------------------------
@bp.route("/batches/<int:batch_id>/lines/<int:line_id>")
def line(batch_id: int, line_id: int) -> ResponseReturnValue:
    """One payee: correct the bank details, close as not paid, or decide a line in review."""
    _readers()
    return _line_page(batch_id, line_id)


def _bank_form() -> dict[str, str]:
    return {
        name: request.form.get(name, "").strip()
        for name in ("bank_code", "branch_code", "account_name", "account_no")
    }


@bp.route("/batches/<int:batch_id>/lines/<int:line_id>/bank", methods=["POST"])
def line_bank(batch_id: int, line_id: int) -> ResponseReturnValue:
    """แก้ไขข้อมูลทางการเงิน: the corrected details go into the next file (with a new ref2)."""
    _actors()
    form = _bank_form()
    body: dict[str, Any] = {**form, "branch_code": form["branch_code"] or None}
    r = api("PATCH", f"/api/payment/lines/{line_id}/bank", json=body)
    if not r.ok:
        # A message that names a field is shown beside it; any other one above the form.
        errors = r.field_errors
        message = "" if errors else r.message
        return _line_page(batch_id, line_id, r.status, form=form, errors=errors, bank_error=message)
    flash(f"แก้ไขข้อมูลบัญชีของเคส {r.data['case_no']} แล้ว รายการนี้จะอยู่ในไฟล์โอนเงินครั้งถัดไป", "ok")
    return redirect(url_for("payments.batch", batch_id=batch_id), 303)


@bp.route("/batches/<int:batch_id>/lines/<int:line_id>/close-failed", methods=["POST"])
def line_close(batch_id: int, line_id: int) -> ResponseReturnValue:
    """จ่ายไม่สำเร็จ: close the payee as not paid with a reason (final)."""
    _actors()
    reason = request.form.get("reason", "").strip()
    if not reason:
        return _line_page(
            batch_id, line_id, 400, errors={"reason": "กรุณาระบุเหตุผลที่จ่ายไม่สำเร็จ"}, close_reason=reason
        )
    r = api("POST", f"/api/payment/lines/{line_id}/close-failed", json={"reason": reason})
    if not r.ok:
        return _line_page(
            batch_id, line_id, r.status, errors=r.field_errors, close_error=r.message, close_reason=reason
        )
    flash(f"บันทึกจ่ายไม่สำเร็จของเคส {r.data['case_no']} แล้ว", "ok")
    return redirect(url_for("payments.batch", batch_id=batch_id), 303)


@bp.route("/batches/<int:batch_id>/lines/<int:line_id>/resolve", methods=["POST"])
def line_resolve(batch_id: int, line_id: int) -> ResponseReturnValue:
    """Finance's decision on a line in review (paid or failed), after checking with the bank."""
    _actors()
    decision = request.form.get("decision", "")
    reason = request.form.get("resolve_reason", "").strip()
    errors = {}
    if decision not in ("paid", "failed"):
        errors["decision"] = "กรุณาเลือกผลการตรวจสอบ"
    if not reason:
        errors["resolve_reason"] = "กรุณาระบุรายละเอียดที่ตรวจสอบกับธนาคาร"
    if errors:
        return _line_page(batch_id, line_id, 400, errors=errors, decision=decision, resolve_reason=reason)
    r = api("POST", f"/api/payment/lines/{line_id}/resolve", json={"decision": decision, "reason": reason})
    if not r.ok:
        fields_ = {("resolve_reason" if k == "reason" else k): v for k, v in r.field_errors.items()}
        return _line_page(
            batch_id,
            line_id,
            r.status,
            errors=fields_,
            resolve_error=r.message,
            decision=decision,
            resolve_reason=reason,
        )
    flash(f"บันทึกผลการตรวจสอบของเคส {r.data['case_no']}: {STATE_TH.get(r.data['state'], '')}", "ok")
    return redirect(url_for("payments.batch", batch_id=batch_id), 303)


# --- files ------------------------------------------------------------------------------------------
def _file_page(batch_id: int, file_id: int, status: int = 200, **extra: Any) -> ResponseReturnValue:
    r = _read(f"/api/payment/batches/{batch_id}/files")
    if not r.ok:
        return _unavailable(r)
    pf = next((f for f in r.data if f["id"] == file_id), None)
    if pf is None:
        abort(404)
    return render_template(
        "payments/cancel_file.html", batch_id=batch_id, pf=pf, errors=extra.pop("errors", {}), **extra
    ), status


@bp.route("/batches/<int:batch_id>/files/<int:file_id>/cancel", methods=["GET", "POST"])
def cancel_file(batch_id: int, file_id: int) -> ResponseReturnValue:
    """Cancel a file the bank never processed (its lines get new ref2s in the next file)."""
    _actors()
    if request.method == "GET":
        return _file_page(batch_id, file_id)
    reason = request.form.get("reason", "").strip()
    if not reason:
        return _file_page(batch_id, file_id, 400, errors={"reason": "กรุณาระบุเหตุผลที่ยกเลิกไฟล์"})
    r = api("POST", f"/api/payment/files/{file_id}/cancel", json={"reason": reason})
    if not r.ok:
        return _file_page(batch_id, file_id, r.status, errors=r.field_errors, error=r.message, reason=reason)
    flash(f"ยกเลิกไฟล์ {r.data['txt_name']} แล้ว รายการในไฟล์จะอยู่ในไฟล์โอนเงินครั้งถัดไป", "ok")
    return redirect(url_for("payments.batch", batch_id=batch_id), 303)


# --- alerts -----------------------------------------------------------------------------------------
@bp.route("/alerts")
def alerts() -> ResponseReturnValue:
    """Alerts for finance (contradicting reports, duplicate cases): open ones, or all."""
    _readers()
    show = request.args.get("show", "open")
    params = {"open": "false" if show == "all" else "true", "batch_id": request.args.get("batch_id", "")}
    r = api("GET", "/api/payment/alerts", params=params)
    return render_template(
        "payments/alerts.html", items=r.data if r.ok else [], error=r.message, show=show
    ), (200 if r.ok else r.status)


@bp.route("/alerts/<int:alert_id>/acknowledge", methods=["POST"])
def acknowledge(alert_id: int) -> ResponseReturnValue:
    """Mark an alert as handled and go back where it was shown."""
    _actors()
    r = api("POST", f"/api/payment/alerts/{alert_id}/acknowledge")
    if r.ok:
        flash("รับทราบการแจ้งเตือนแล้ว", "ok")
    else:
        flash(r.message, "error")
    target = request.form.get("next", "")
    if not target.startswith("/payments/") or target.startswith("//"):
        target = url_for("payments.alerts")
    return redirect(target, 303)


# --- settlement -------------------------------------------------------------------------------------
def _review_page(batch_id: int, status: int = 200, **extra: Any) -> ResponseReturnValue:
    r = _read(f"/api/payment/batches/{batch_id}/review")
    if not r.ok:
        return _unavailable(r)
    review = r.data
    b = _read(f"/api/payment/batches/{batch_id}")
    batch = b.data if b.ok else {}
    district = get_district(batch.get("district_code", ""))
    return render_template(
        "payments/review.html", review=review, batch=batch, district=district, **extra
    ), status


@bp.route("/batches/<int:batch_id>/review")
def review(batch_id: int) -> ResponseReturnValue:
    """จ่ายสำเร็จทั้งหมด: the final review list, what still blocks settling, and the settle button."""
    _readers()
    return _review_page(batch_id)


@bp.route("/batches/<int:batch_id>/settle", methods=["POST"])
def settle(batch_id: int) -> ResponseReturnValue:
    """บันทึกการจ่ายสำเร็จทั้งหมด (409 while a line is neither paid nor closed)."""
    _actors()
    r = api("POST", f"/api/payment/batches/{batch_id}/settle")
    if not r.ok:
        return _review_page(batch_id, r.status, settle_error=r.message)
    flash(f"บันทึกการจ่ายสำเร็จทั้งหมดแล้ว: {r.data['title']}", "ok")
    return redirect(url_for("payments.batch", batch_id=batch_id), 303)
