"""Reporting's HTTP endpoints: documents (PDF/XLSX), summaries, budgets and templates."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue

from services.reporting import domain, pdf, reports, schemas, services, summary, xlsx
from services.reporting.domain import DomainError
from services.reporting.models import RptBatch
from services.reporting.reports import Document
from shared.db import utcnow
from shared.districts import get_district
from shared.web import ApiError, Blueprint, ctx, current_principal, error_body, get_session, require_roles

blp = Blueprint(
    "reporting",
    __name__,
    url_prefix="/api/reporting",
    description="Approval reports, bank forms (ทค.1, K-Corp 2), agenda and payment lists, summaries, budgets",
)
DOCUMENT_ROLES = ("officer", "head", "finance", "central_admin")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MIMETYPES = {"pdf": "application/pdf", "xlsx": XLSX}
_BINARY = {"schema": {"type": "string", "format": "binary"}}
_FILES = dict.fromkeys(MIMETYPES.values(), _BINARY)
FILE_DOC = {"responses": {"200": {"description": "The document (PDF or XLSX)", "content": _FILES}}}
XLSX_DOC = {"responses": {"200": {"description": "The workbook", "content": {XLSX: _BINARY}}}}


@blp.errorhandler(DomainError)
def _domain_error(exc: DomainError) -> ResponseReturnValue:
    fields_ = {exc.field: exc.message} if exc.field else None
    return jsonify(error_body(exc.status, exc.message, code=exc.code, fields_=fields_)), exc.status


def _actor() -> services.Actor:
    p = current_principal()
    return services.Actor(p.username, p.role, p.district_code, request.remote_addr)


def _scope(requested: str | None) -> str | None:
    """The district a read is limited to: the caller's own, or the one a city-wide role names (or all)."""
    principal = current_principal()
    if requested is not None and get_district(requested) is None:
        raise ApiError(404, "ไม่พบรหัสเขตนี้")
    if principal.is_city_wide:
        return requested
    if principal.district_code is None or requested not in (None, principal.district_code):
        raise ApiError(404)
    return principal.district_code


def _one_district(requested: str | None) -> str:
    district = _scope(requested)
    if district is None:
        message = "กรุณาระบุรหัสเขต (district_code)"
        raise ApiError(400, message, code="district_required", fields={"district_code": message})
    return district


def _file(doc: Document, fmt: str, *, document: str, object_id: str, district_code: str | None) -> Response:
    """Render a document and audit its download (in its own committed transaction)."""
    data = pdf.render(doc) if fmt == "pdf" else xlsx.render(doc)
    with ctx().sessions.begin() as session:
        services.audit_export(
            session,
            _actor(),
            document=document,
            object_id=object_id,
            district_code=district_code,
            fmt=fmt,
            rows=len(doc.rows),
        )
    response = Response(data, mimetype=MIMETYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{doc.name}.{fmt}"'
    return response


def _batch_file(
    doc: Document, fmt: str, *, document: str, batch_id: str, group: str | None = None
) -> Response:
    """A batch's document, audited under the batch (and bank group) and the batch's district."""
    batch = get_session().get(RptBatch, batch_id)  # it exists: the document was built from it
    district = batch.district_code if batch is not None else None
    object_id = f"{batch_id}/{group}" if group else batch_id
    return _file(doc, fmt, document=document, object_id=object_id, district_code=district)


# --- documents -------------------------------------------------------------------------------------
@blp.route("/batches/<batch_id>/approval-report.<any(pdf, xlsx):fmt>")
@blp.doc(**FILE_DOC)
@require_roles(*DOCUMENT_ROLES)
def approval_report(batch_id: str, fmt: str) -> Response:
    """The approval report of a batch (รายชื่อผู้ประสบปัญหาความเดือดร้อนที่ผ่านการพิจารณาให้ความช่วยเหลือ)."""
    doc = reports.approval_report(get_session(), batch_id=batch_id, principal=current_principal())
    return _batch_file(doc, fmt, document="approval_report", batch_id=batch_id)


@blp.route("/batches/<batch_id>/tk1-<any(ktb, other):group>.<any(pdf, xlsx):fmt>")
@blp.doc(**FILE_DOC)
@require_roles(*DOCUMENT_ROLES)
def tk1(batch_id: str, group: str, fmt: str) -> Response:
    """Form ทค.1 of a batch for its KTB payees or its other-bank payees."""
    doc = reports.bank_form(
        get_session(), batch_id=batch_id, form="tk1", group=group, principal=current_principal()
    )
    return _batch_file(doc, fmt, document="tk1", batch_id=batch_id, group=group)


@blp.route("/batches/<batch_id>/kcorp2-<any(ktb, other):group>.<any(pdf, xlsx):fmt>")
@blp.doc(**FILE_DOC)
@require_roles(*DOCUMENT_ROLES)
def kcorp2(batch_id: str, group: str, fmt: str) -> Response:
    """Form K-Corp 2 of a batch for its KTB payees or its other-bank payees."""
    doc = reports.bank_form(
        get_session(), batch_id=batch_id, form="kcorp2", group=group, principal=current_principal()
    )
    return _batch_file(doc, fmt, document="kcorp2", batch_id=batch_id, group=group)


@blp.route("/batches/<batch_id>/payment-review.<any(pdf, xlsx):fmt>")
@blp.doc(**FILE_DOC)
@require_roles(*DOCUMENT_ROLES)
def payment_review(batch_id: str, fmt: str) -> Response:
    """The payment review list of a batch (…สำหรับบันทึกการจ่ายเงินให้ประชาชน) with each payee's state."""
    doc = reports.payment_review(get_session(), batch_id=batch_id, principal=current_principal())
    return _batch_file(doc, fmt, document="payment_review", batch_id=batch_id)


@blp.route("/districts/<district_code>/agenda.<any(pdf, xlsx):fmt>")
@blp.doc(**FILE_DOC)
@require_roles(*DOCUMENT_ROLES)
def agenda(district_code: str, fmt: str) -> Response:
    """The district's cases waiting for the committee, for the meeting."""
    doc = reports.agenda(get_session(), district_code=district_code, principal=current_principal())
    return _file(doc, fmt, document="agenda", object_id=district_code, district_code=district_code)


@blp.route("/batches")
@blp.arguments(schemas.BatchListArgs, location="query")
@blp.response(200, schemas.BatchListSchema)
def list_batches(args: dict[str, Any]) -> Any:
    """Approved batches, newest first (the report menu: พิมพ์รายงานการอนุมัติย้อนหลัง)."""
    rows, total = reports.list_batches(
        get_session(),
        district_code=_scope(args["district_code"]),
        fiscal_year=args["fiscal_year"],
        page=args["page"],
        per_page=args["per_page"],
    )
    return {"items": rows, "total": total}


# --- summaries ---------------------------------------------------------------------------------------
@blp.route("/summary")
@blp.arguments(schemas.ScopeArgs, location="query")
@blp.response(200, schemas.SummarySchema)
def get_summary(args: dict[str, Any]) -> Any:
    """Cases and amounts by status, welfare type, district, month and fiscal year; budgets; daily intake."""
    district = _scope(args["district_code"])
    return summary.summary(get_session(), fiscal_year=args["fiscal_year"], district_code=district)


@blp.route("/summary.xlsx")
@blp.arguments(schemas.ScopeArgs, location="query")
@blp.doc(**XLSX_DOC)
def get_summary_xlsx(args: dict[str, Any]) -> Response:
    """The summary as a workbook (one sheet per breakdown, budgets and daily intake)."""
    district, year = _scope(args["district_code"]), args["fiscal_year"]
    data = xlsx.render_summary(
        summary.summary(get_session(), fiscal_year=year, district_code=district), utcnow()
    )
    response = Response(data, mimetype=XLSX)
    name = f"summary-{year or 'all'}-{district or 'all'}.xlsx"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- budgets -------------------------------------------------------------------------------------------
@blp.route("/budgets")
@blp.arguments(schemas.ScopeArgs, location="query")
@blp.response(200, schemas.BudgetListSchema)
def list_budgets(args: dict[str, Any]) -> Any:
    """Budget allocations per district and fiscal year, with the amount paid out and its share."""
    items = summary.budgets(
        get_session(), fiscal_year=args["fiscal_year"], district_code=_scope(args["district_code"])
    )
    return {"items": items, "total": len(items)}


@blp.route("/budgets/<int:fiscal_year>/<district_code>", methods=["PUT"])
@blp.arguments(schemas.BudgetBody)
@blp.response(200, schemas.BudgetSchema)
@require_roles("central_admin")
def put_budget(body: dict[str, Any], fiscal_year: int, district_code: str) -> Any:
    """The central office enters a district's budget allocation for a fiscal year (audited)."""
    if not domain.FISCAL_YEAR_MIN <= fiscal_year <= domain.FISCAL_YEAR_MAX:
        raise ApiError(400, schemas.FISCAL_YEAR_MESSAGE, fields={"fiscal_year": schemas.FISCAL_YEAR_MESSAGE})
    session = get_session()
    with session.begin():
        services.set_budget(
            session,
            fiscal_year=fiscal_year,
            district_code=district_code,
            amount=body["amount"],
            actor=_actor(),
        )
        items = summary.budgets(session, fiscal_year=fiscal_year, district_code=district_code)
    return items[0]


# --- templates -----------------------------------------------------------------------------------------
def _template_view(doc: str, district_code: str) -> dict[str, Any]:
    row = services.template_override(get_session(), doc, district_code)
    return {
        "doc": doc,
        "district_code": district_code,
        "template": domain.effective_template(doc, row.data if row else None),
        "override": row.data if row else None,
        "updated_at": row.updated_at if row else None,
        "updated_by": row.updated_by if row else None,
    }


_DOC_CONVERTER = "any(" + ", ".join(f"'{d}'" for d in domain.DOCS) + ")"


@blp.route(f"/templates/<{_DOC_CONVERTER}:doc>")
@blp.arguments(schemas.DistrictArgs, location="query")
@blp.response(200, schemas.TemplateSchema)
@require_roles(*DOCUMENT_ROLES)
def get_template(args: dict[str, Any], doc: str) -> Any:
    """A document's layout text for a district: the effective template and the district's changes."""
    return _template_view(doc, _one_district(args["district_code"]))


@blp.route(f"/templates/<{_DOC_CONVERTER}:doc>", methods=["PUT"])
@blp.arguments(schemas.TemplateBody)
@blp.response(200, schemas.TemplateSchema)
@require_roles("head", "central_admin")
def put_template(body: dict[str, Any], doc: str) -> Any:
    """Adjust a document's titles, header lines, signature blocks or footer for a district (audited)."""
    district = _one_district(body.pop("district_code", None))
    session = get_session()
    with session.begin():
        services.set_template(session, doc=doc, district_code=district, data=body, actor=_actor())
    return _template_view(doc, district)
