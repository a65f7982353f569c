"""Approval's HTTP endpoints: the agenda, the committee's decisions, meetings and batches."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from services.approval import batches, intake_client, schemas, services
from services.approval.domain import DomainError, total_of
from shared.idempotency import idempotent
from shared.web import (
    ApiError,
    Blueprint,
    current_principal,
    district_filter_value,
    error_body,
    get_session,
    new_job,
    require_roles,
)

blp = Blueprint(
    "approval",
    __name__,
    url_prefix="/api/approval",
    description="The district committee's agenda, its decisions, meetings and approval batches",
)
DECIDERS = ("officer", "head")  # the officer prepares the agenda; the head also closes it
#: Who reads cases (names, amounts); the operator sees no case data, as in intake and payment.
READERS = ("officer", "head", "finance", "central_admin")


def _actor() -> services.Actor:
    p = current_principal()
    return services.Actor(p.username, p.role, p.district_code, request.remote_addr)


def _district(requested: str | None) -> str:
    """The district a request is about: the caller's own, or the one a city-wide role names."""
    principal = current_principal()
    if principal.is_city_wide:
        if requested is None:
            message = "กรุณาระบุรหัสเขต (district_code)"
            raise ApiError(400, message, code="district_required", fields={"district_code": message})
        return requested
    if principal.district_code is None or requested not in (None, principal.district_code):
        raise ApiError(404)
    return principal.district_code


def _listing_filter(requested: str | None) -> str | None:
    own = district_filter_value()
    if own is not None and requested not in (None, own):
        raise ApiError(404)
    return own if own is not None else requested


@blp.errorhandler(DomainError)
def _domain_error(exc: DomainError) -> ResponseReturnValue:
    fields_ = {exc.field: exc.message} if exc.field else None
    return jsonify(error_body(exc.status, exc.message, code=exc.code, fields_=fields_)), exc.status


@blp.errorhandler(intake_client.IntakeRefused)
def _intake_refused(exc: intake_client.IntakeRefused) -> ResponseReturnValue:
    status = exc.status if exc.status in (400, 401, 403, 404, 409, 422) else 503
    return jsonify(error_body(status, exc.message, code=exc.code, fields_=exc.fields or None)), status


@blp.errorhandler(intake_client.IntakeUnavailable)
def _intake_unavailable(_exc: intake_client.IntakeUnavailable) -> ResponseReturnValue:
    message = "ไม่สามารถติดต่อระบบรับเรื่องเพื่อตรวจสอบหลักเกณฑ์ได้ ยังไม่ได้บันทึกการแก้ไข กรุณาลองใหม่อีกครั้ง"
    return jsonify(error_body(503, message, code="intake_unavailable")), 503


# --- the agenda ------------------------------------------------------------------------------------
@blp.route("/agenda")
@blp.arguments(schemas.DistrictArgs, location="query")
@blp.response(200, schemas.AgendaSchema)
@require_roles(*READERS)
def get_agenda(args: dict[str, Any]) -> Any:
    """The district's current agenda: its cases with their amounts, the count and total."""
    return services.current_agenda(get_session(), district_code=_district(args["district_code"]))


@blp.route("/deferred")
@blp.arguments(schemas.DistrictArgs, location="query")
@blp.response(200, schemas.CaseListSchema)
@require_roles(*READERS)
def get_deferred(args: dict[str, Any]) -> Any:
    """Cases taken off the agenda for now (they wait on the home list)."""
    items = services.deferred_cases(get_session(), district_code=_district(args["district_code"]))
    return {"items": items, "total": len(items), "total_amount": total_of(i.amount for i in items)}


@blp.route("/cases/<case_id>")
@blp.response(200, schemas.AgendaItemSchema)
@blp.alt_response(
    404, schema=schemas.ApprovalErrorSchema, description="No such case in the caller's district"
)
@require_roles(*READERS)
def get_case(case_id: str) -> Any:
    """One case as the committee sees it, with its status and decisions."""
    return services.get_case(get_session(), case_id=case_id, district_filter=district_filter_value())


@blp.route("/agenda/<case_id>/defer", methods=["POST"])
@blp.response(200, schemas.AgendaItemSchema)
@blp.alt_response(
    404, schema=schemas.ApprovalErrorSchema, description="No such case in the caller's district"
)
@blp.alt_response(
    409,
    schema=schemas.ApprovalErrorSchema,
    description="The case is not waiting on the agenda (or is being locked)",
)
@require_roles(*DECIDERS)
def defer_case(case_id: str) -> Any:
    """Take a case off the agenda for now (นำออกจากที่ประชุมชั่วคราว)."""
    session = get_session()
    with session.begin():
        return services.defer_case(session, case_id=case_id, actor=_actor())


@blp.route("/deferred/<case_id>/restore", methods=["POST"])
@blp.response(200, schemas.AgendaItemSchema)
@blp.alt_response(
    404, schema=schemas.ApprovalErrorSchema, description="No such case in the caller's district"
)
@blp.alt_response(409, schema=schemas.ApprovalErrorSchema, description="The case is not deferred")
@require_roles(*DECIDERS)
def restore_case(case_id: str) -> Any:
    """Put a deferred case back on the agenda."""
    session = get_session()
    with session.begin():
        return services.restore_case(session, case_id=case_id, actor=_actor())


@blp.route("/cases/<case_id>/disqualify", methods=["POST"])
@blp.arguments(schemas.DisqualifyArgs)
@blp.response(200, schemas.AgendaItemSchema)
@blp.alt_response(
    404, schema=schemas.ApprovalErrorSchema, description="No such case in the caller's district"
)
@blp.alt_response(
    409,
    schema=schemas.ApprovalErrorSchema,
    description="The case is already disqualified, approved or being locked",
)
@require_roles(*DECIDERS)
def disqualify_case(args: dict[str, Any], case_id: str) -> Any:
    """Record the case as not qualified, with the reason (บันทึกขาดคุณสมบัติ; final)."""
    session = get_session()
    with session.begin():
        return services.disqualify_case(session, case_id=case_id, reason=args["reason"], actor=_actor())


@blp.route("/agenda/<case_id>", methods=["PATCH"])
@blp.arguments(schemas.AmendArgs)
@blp.response(200, schemas.AgendaItemSchema)
@blp.alt_response(
    404, schema=schemas.ApprovalErrorSchema, description="No such case in the caller's district"
)
@blp.alt_response(
    409, schema=schemas.ApprovalErrorSchema, description="The case cannot be changed in its state"
)
@blp.alt_response(
    422,
    schema=schemas.ApprovalErrorSchema,
    description="A ceiling or programme rule is broken (intake's message)",
)
@blp.alt_response(
    503, schema=schemas.ApprovalErrorSchema, description="Intake could not be asked; nothing was saved"
)
@require_roles(*DECIDERS)
def amend_case(args: dict[str, Any], case_id: str) -> Any:
    """Record the committee's resolution: a new welfare type and/or amount (intake checks the rules)."""
    session, actor = get_session(), _actor()
    with session.begin():
        plan = services.plan_amendment(session, case_id=case_id, actor=actor, **args)
    check = None
    if plan.changed:  # ceilings and programme rules are intake's: ask before saving anything
        check = intake_client.check_amendment(
            case_id,
            welfare_type_code=plan.welfare_type_code,
            amount=plan.amount,
            authorization=request.headers.get("Authorization"),
        )
    with session.begin():
        return services.amend_case(session, plan=plan, check=check, actor=actor)


# --- meetings --------------------------------------------------------------------------------------
@blp.route("/meetings", methods=["POST"])
@blp.arguments(schemas.MeetingArgs)
@blp.response(201, schemas.MeetingSchema)
@require_roles(*DECIDERS)
def record_meeting(args: dict[str, Any]) -> Any:
    """Record a meeting of the district committee (any date is accepted)."""
    session = get_session()
    with session.begin():
        return services.record_meeting(session, actor=_actor(), **args)


@blp.route("/meetings")
@blp.arguments(schemas.FiscalYearPageArgs, location="query")
@blp.response(200, schemas.MeetingListSchema)
def list_meetings(args: dict[str, Any]) -> Any:
    """The district's committee meetings, newest first."""
    rows, total = services.list_meetings(
        get_session(),
        district_filter=_listing_filter(args.pop("district_code")),
        fiscal_year=args["fiscal_year"],
        page=args["page"],
        per_page=args["per_page"],
    )
    return {"items": rows, "total": total}


# --- batches ---------------------------------------------------------------------------------------
@blp.route("/batches", methods=["POST"])
@idempotent()
@blp.arguments(schemas.CloseArgs)
@blp.response(202, schemas.CloseResultSchema)
@blp.alt_response(
    403, schema=schemas.ApprovalErrorSchema, description="Only a section head closes the agenda"
)
@blp.alt_response(
    409,
    schema=schemas.ApprovalErrorSchema,
    description="The agenda is empty, or another closing of the district is in progress",
)
@require_roles("head")
def close_agenda(args: dict[str, Any]) -> Any:
    """Close the agenda into an approval batch; follow the job until intake has locked the cases."""
    session, actor = get_session(), _actor()
    with session.begin():
        job = new_job(
            session,
            kind="approval.close_agenda",
            district_code=actor.district_code,
            created_by=actor.username,
        )
        batch = batches.close_agenda(session, actor=actor, job=job, **args)
    return {"job_id": job.id, "batch_id": batch.id, "status": job.status}


@blp.route("/batches")
@blp.arguments(schemas.FiscalYearPageArgs, location="query")
@blp.response(200, schemas.BatchListSchema)
def list_batches(args: dict[str, Any]) -> Any:
    """Approval batches (number, date, count, total, status), newest first."""
    rows, total = batches.list_batches(
        get_session(),
        district_filter=_listing_filter(args.pop("district_code")),
        fiscal_year=args["fiscal_year"],
        page=args["page"],
        per_page=args["per_page"],
    )
    return {"items": rows, "total": total}


@blp.route("/batches/<batch_id>")
@blp.response(200, schemas.BatchDetailSchema)
@blp.alt_response(
    404, schema=schemas.ApprovalErrorSchema, description="No such batch in the caller's district"
)
@require_roles(*READERS)
def get_batch(batch_id: str) -> Any:
    """One approval batch with its cases."""
    return batches.get_batch(get_session(), batch_id=batch_id, district_filter=district_filter_value())
