"""Pages: พิมพ์รายงานขออนุมัติเงิน (reporting): batches with the approval report, ทค.1 and K-corp 2.

The batches come from approval (the source of their status: being locked, approved, failed,
settled); the documents are reporting's, which builds them from its own read tables once it has
received the batch.  A batch reporting does not know yet shows "preparing" instead of links that
would fail, and the page reloads itself when the documents are ready (static/agenda.js).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g, render_template, request
from flask.typing import ResponseReturnValue

from services.gateway.web.agenda import current_fiscal_year, template_helpers
from services.gateway.web.client import api
from services.gateway.web.views import require_login, require_page_roles
from shared.banks import get_bank
from shared.districts import DISTRICTS, get_district

bp = Blueprint("reports", __name__, url_prefix="/reports", template_folder="templates")
bp.before_request(require_login)

REPORT_ROLES = ("officer", "head", "finance", "central_admin")
#: (endpoint, Thai label, roles that see it); see views.MENU.
MENU: list[tuple[str, str, tuple[str, ...] | None]] = [
    ("reports.index", "พิมพ์รายงานขออนุมัติเงิน", REPORT_ROLES),
]
PER_PAGE = 20
#: The documents of a batch: (path stem, Thai label).  Bank forms exist for KTB and other banks.
DOCUMENTS = (
    ("approval-report", "รายชื่อผู้ได้รับการอนุมัติเงิน (รายงานขออนุมัติเงิน)"),
    ("tk1-ktb", "แบบ ทค.1 ธนาคารกรุงไทย"),
    ("tk1-other", "แบบ ทค.1 ธนาคารอื่น"),
    ("kcorp2-ktb", "แบบ K-corp 2 ธนาคารกรุงไทย"),
    ("kcorp2-other", "แบบ K-corp 2 ธนาคารอื่น"),
)
WITH_DOCUMENTS = ("approved", "settled")


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        **template_helpers(),
        "documents": DOCUMENTS,
        "with_documents": WITH_DOCUMENTS,
        "bank_name": lambda code: bank.name_th if (bank := get_bank(code)) else code,
    }


def _ready(fiscal_year: int | None, district_code: str | None) -> tuple[set[str] | None, str]:
    """The ids of the batches whose documents reporting can print (None when it cannot be asked)."""
    params = {"fiscal_year": fiscal_year, "district_code": district_code, "per_page": 500}
    r = api("GET", "/api/reporting/batches", params=params)
    if not r.ok:
        return None, r.message
    return {b["id"] for b in r.data.get("items", [])}, ""


def _int_arg(name: str, default: int, low: int, high: int) -> tuple[int, bool]:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default, True
    try:
        value = int(raw)
    except ValueError:
        return default, False
    return (value, True) if low <= value <= high else (default, False)


@bp.route("/")
def index() -> ResponseReturnValue:
    """พิมพ์รายงานการอนุมัติย้อนหลัง: the batches of a fiscal year with their documents."""
    require_page_roles(*REPORT_ROLES)
    current = current_fiscal_year()
    errors: dict[str, str] = {}
    year, ok = _int_arg("fiscal_year", current, 2500, 2700)
    if not ok:
        errors["fiscal_year"] = "ปีงบประมาณต้องเป็นปี พ.ศ. ระหว่าง 2500 ถึง 2700 เช่น 2566"
    page, _ = _int_arg("page", 1, 1, 100_000)
    city_wide = g.user.role == "central_admin"
    district_code = request.args.get("district_code", "").strip() if city_wide else g.user.district_code
    if district_code and get_district(district_code) is None:
        errors["district_code"] = "ไม่พบรหัสเขตนี้"
        district_code = ""
    params = {"fiscal_year": year, "district_code": district_code, "page": page, "per_page": PER_PAGE}
    r = api("GET", "/api/approval/batches", params=params)
    listing = r.data if r.ok else {"items": [], "total": 0}
    ready, ready_error = _ready(year, district_code or None) if r.ok and listing["items"] else (set(), "")
    return render_template(
        "reports/index.html",
        listing=listing,
        error=r.message,
        ready=ready,
        ready_error=ready_error,
        year=year,
        years=list(range(current, current - 6, -1)),
        page=page,
        per_page=PER_PAGE,
        city_wide=city_wide,
        district_code=district_code,
        districts=DISTRICTS,
        errors=errors,
    )


@bp.route("/batches/<batch_id>")
def batch(batch_id: str) -> ResponseReturnValue:
    """One approval batch: its cases and the download links of its documents."""
    require_page_roles(*REPORT_ROLES)
    r = api("GET", f"/api/approval/batches/{batch_id}")
    if r.status == 404:
        abort(404)
    found = r.data if r.ok else None
    ready, ready_error = (None, "")
    if found and found.get("status") in WITH_DOCUMENTS:
        ready, ready_error = _ready(found.get("fiscal_year"), found.get("district_code"))
    return render_template(
        "reports/batch.html",
        batch=found,
        error=r.message,
        docs_ready=ready is None or batch_id in ready,
        ready_error=ready_error,
        batch_district=get_district(found["district_code"]) if found else None,
    )
