"""Intake's HTTP endpoints (thin: parse, open the transaction, call one use case, dump)."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify, request, send_file
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from services.intake import schemas as s
from services.intake import services
from services.intake.domain import IntakeError
from services.intake.models import Bank, District, Programme, WelfareType
from services.intake.services import Actor, CaseQuery
from services.intake.storage import DocumentStore
from shared.idempotency import idempotent
from shared.thai import parse_national_id
from shared.web import Blueprint, ctx, current_principal, error_body, get_session, require_roles

blp = Blueprint("intake", __name__, url_prefix="/api/intake", description="Citizens, cases and the catalogue")

#: Who reads case data; the operator role sees no case data at all.
READERS = ("officer", "head", "finance", "central_admin")
#: Who records and edits cases: the district's officers and section head.
WRITERS = ("officer", "head")
CENTRAL = ("central_admin",)


@blp.errorhandler(IntakeError)
def _intake_error(exc: IntakeError) -> ResponseReturnValue:
    fields = {exc.field: exc.message} if exc.field else None
    return jsonify(error_body(exc.status, exc.message, code=exc.code, fields_=fields)), exc.status


def _actor() -> Actor:
    principal = current_principal()
    return Actor(principal.username, principal.role, principal.district_code, request.remote_addr)


def _store() -> DocumentStore:
    return current_app.extensions["intake_documents"]  # type: ignore[no-any-return]


# --- reference data --------------------------------------------------------------------------------
@blp.route("/districts")
@blp.response(200, s.DistrictSchema(many=True))
def list_districts() -> Any:
    """The 50 Bangkok districts."""
    return get_session().scalars(select(District).order_by(District.code)).all()


@blp.route("/banks")
@blp.response(200, s.BankSchema(many=True))
def list_banks() -> Any:
    """Banks a payee may use (active banks only)."""
    return get_session().scalars(select(Bank).where(Bank.active.is_(True)).order_by(Bank.code)).all()


@blp.route("/welfare-types")
@blp.response(200, s.WelfareTypeSchema(many=True))
def list_welfare_types() -> Any:
    """The welfare catalogue."""
    return get_session().scalars(select(WelfareType).order_by(WelfareType.code)).all()


@blp.route("/welfare-types", methods=["POST"])
@require_roles(*CENTRAL)
@blp.arguments(s.WelfareTypeWriteSchema())
@blp.response(201, s.WelfareTypeSchema)
def create_welfare_type(data: dict[str, Any]) -> Any:
    """Add a welfare type (central office)."""
    session = get_session()
    with session.begin():
        return services.create_welfare_type(session, data=data, actor=_actor())


@blp.route("/welfare-types/<code>", methods=["PATCH"])
@require_roles(*CENTRAL)
@blp.arguments(s.WelfareTypePatchSchema())
@blp.response(200, s.WelfareTypeSchema)
def update_welfare_type(changes: dict[str, Any], code: str) -> Any:
    """Change a welfare type: ceiling, scope, repeat limit, documents, active (central office)."""
    session = get_session()
    with session.begin():
        return services.update_welfare_type(session, code=code, changes=changes, actor=_actor())


@blp.route("/programmes")
@blp.response(200, s.ProgrammeSchema(many=True))
def list_programmes() -> Any:
    """Programmes and their rules."""
    return get_session().scalars(select(Programme).order_by(Programme.code)).all()


@blp.route("/programmes", methods=["POST"])
@require_roles(*CENTRAL)
@blp.arguments(s.ProgrammeWriteSchema())
@blp.response(201, s.ProgrammeSchema)
def create_programme(data: dict[str, Any]) -> Any:
    """Add a programme (central office)."""
    session = get_session()
    with session.begin():
        return services.create_programme(session, data=data, actor=_actor())


@blp.route("/programmes/<code>", methods=["PATCH"])
@require_roles(*CENTRAL)
@blp.arguments(s.ProgrammePatchSchema())
@blp.response(200, s.ProgrammeSchema)
def update_programme(changes: dict[str, Any], code: str) -> Any:
    """Change a programme (central office)."""
    session = get_session()
    with session.begin():
        return services.update_programme(session, code=code, changes=changes, actor=_actor())


# --- check -----------------------------------------------------------------------------------------
@blp.route("/citizens/<national_id>/history")
@require_roles(*READERS)
@blp.arguments(s.HistoryQueryArgs(), location="query")
@blp.response(200, s.HistorySchema)
def citizen_history(args: dict[str, Any], national_id: str) -> Any:
    """Every earlier case of a person in every district and fiscal year, with warnings."""
    nid = parse_national_id(national_id)
    return services.citizen_history(get_session(), national_id=nid, actor=_actor(), **args)


# --- cases -----------------------------------------------------------------------------------------
@blp.route("/cases")
@require_roles(*READERS)
@blp.arguments(s.CaseQueryArgs(), location="query")
@blp.response(200, s.CaseListSchema)
def list_cases(args: dict[str, Any]) -> Any:
    """Find cases by national ID, name, case number, status, fiscal year, welfare type."""
    page, per_page = args.pop("page"), args.pop("per_page")
    items, total = services.find_cases(
        get_session(), query=CaseQuery(**args), actor=_actor(), page=page, per_page=per_page
    )
    return {"items": items, "total": total}


@blp.route("/cases", methods=["POST"])
@idempotent()
@require_roles(*WRITERS)
@blp.arguments(s.CaseCreateSchema())
@blp.response(201, s.CaseSchema)
def record_case(data: dict[str, Any]) -> Any:
    """Record a case for the caller's district."""
    session = get_session()
    with session.begin():
        return services.record_case(session, data=data, actor=_actor())


@blp.route("/cases/<case_id>")
@require_roles(*READERS)
@blp.response(200, s.CaseDetailSchema)
def get_case(case_id: str) -> Any:
    """One case with documents, home visits, status history and audit trail."""
    actor = _actor()
    with ctx().sessions.begin() as session:  # a write session: reading the full record is audited
        return services.case_detail(session, services.get_case(session, case_id, actor), actor)


@blp.route("/cases/<case_id>", methods=["PATCH"])
@require_roles(*WRITERS)
@blp.arguments(s.CaseUpdateSchema())
@blp.response(200, s.CaseSchema)
def update_case(changes: dict[str, Any], case_id: str) -> Any:
    """Edit a case (once locked: only bank details, phone and e-mail)."""
    session = get_session()
    with session.begin():
        return services.update_case(session, case_id=case_id, changes=changes, actor=_actor())


@blp.route("/cases/<case_id>/check-amendment", methods=["POST"])
@require_roles("officer", "head", "central_admin")
@blp.arguments(s.AmendmentArgs())
@blp.response(200, s.AmendmentOkSchema)
def check_amendment(args: dict[str, Any], case_id: str) -> Any:
    """Whether the committee may change the case to this type and amount (422 naming the rule)."""
    session = get_session()
    with session.begin():
        wt = services.check_amendment(session, case_id=case_id, actor=_actor(), **args)
    return {"ok": True, "welfare_type": wt, "amount": args["amount"]}


@blp.route("/cases/<case_id>/documents", methods=["POST"])
@require_roles(*WRITERS)
@blp.arguments(s.DocumentFormSchema(), location="form")
@blp.arguments(s.DocumentFileSchema(), location="files")
@blp.response(201, s.DocumentSchema)
def upload_document(form: dict[str, Any], files: dict[str, Any], case_id: str) -> Any:
    """Attach or replace the related or financial PDF (checked by content, not by name)."""
    max_bytes = current_app.config["MAX_DOCUMENT_BYTES"]
    content = files["file"].read(max_bytes + 1)
    session = get_session()
    with session.begin():
        return services.upload_document(
            session,
            case_id=case_id,
            kind=form["kind"],
            content=content,
            actor=_actor(),
            store=_store(),
            max_bytes=max_bytes,
        )


@blp.route("/cases/<case_id>/documents/<kind>")
@require_roles(*READERS)
@blp.arguments(s.DocumentVersionArgs(), location="query")
@blp.response(200, content_type="application/pdf")
def download_document(args: dict[str, Any], case_id: str, kind: str) -> Any:
    """The current PDF of a case, or an earlier version with ``?sha256=`` (every download is audited)."""
    with ctx().sessions.begin() as session:  # a write session: the download is audited
        case, doc = services.open_document(
            session, case_id=case_id, kind=kind, actor=_actor(), sha256=args.get("sha256")
        )
    suffix = f"-{doc.sha256[:8]}" if doc.replaced_at is not None else ""
    response: Response = send_file(
        _store().path(doc.sha256),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"{case.case_no}-{kind}{suffix}.pdf",
    )
    response.headers["Cache-Control"] = "no-store, private"
    return response


@blp.route("/cases/<case_id>/home-visit", methods=["POST"])
@require_roles(*WRITERS)
@blp.arguments(s.HomeVisitArgs())
@blp.response(201, s.HomeVisitSchema)
def record_home_visit(args: dict[str, Any], case_id: str) -> Any:
    """Record the home visit (date, findings; the officer is the caller)."""
    session = get_session()
    with session.begin():
        return services.record_home_visit(session, case_id=case_id, actor=_actor(), **args)
