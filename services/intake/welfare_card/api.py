"""HTTP endpoints of the welfare card measure under ``/api/intake/welfare-card`` (thin views)."""

from __future__ import annotations

import hmac
from typing import Any

from flask import jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from services.intake.welfare_card import imports, records
from services.intake.welfare_card import schemas as s
from services.intake.welfare_card.config import settings
from services.intake.welfare_card.domain import NotFound, WelfareCardError
from services.intake.welfare_card.models import Area, Province
from services.intake.welfare_card.scope import (
    DEVELOPMENT_RECORDERS,
    FOLLOW_UP_RECORDERS,
    IMPORTERS,
    INTENT_RECORDERS,
    PLACE_WRITERS,
    PROJECT_WRITERS,
    READERS,
    WcActor,
)
from shared.web import (
    Blueprint,
    PageArgs,
    ctx,
    current_principal,
    error_body,
    get_session,
    new_job,
    public,
    require_roles,
)
from shared.welfare_card import (
    AGENCIES,
    GROUPS,
    PROGRESS,
    PROJECT_KINDS,
    PUBLIC_CHECK_HEADER,
    RESULTS,
    public_check_key,
)

blp = Blueprint(
    "welfare_card",
    __name__,
    url_prefix="/api/intake/welfare-card",
    description="The state welfare card measure: participants, results, follow-ups, places, intents",
)
#: Room for the multipart boundary and the form fields around an uploaded list.
MULTIPART_OVERHEAD = 64 * 1024


@blp.errorhandler(WelfareCardError)
def _welfare_card_error(exc: WelfareCardError) -> ResponseReturnValue:
    fields = {exc.field: exc.message} if exc.field else None
    return jsonify(error_body(exc.status, exc.message, code=exc.code, fields_=fields)), exc.status


@blp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc: RequestEntityTooLarge) -> ResponseReturnValue:
    limit = settings().max_import_bytes // (1024 * 1024)
    message = f"ไฟล์ใหญ่เกิน {limit} MB กรุณาแบ่งไฟล์ตามจังหวัดและหน่วยงาน"
    return jsonify(error_body(413, message, code="file_too_large", fields_={"file": message})), 413


@blp.before_request
def _import_size_limit() -> None:
    """Lists are far bigger than case documents: the upload endpoint takes its own limit."""
    if request.method == "POST" and request.path.rstrip("/").endswith("/welfare-card/imports"):
        request.max_content_length = settings().max_import_bytes + MULTIPART_OVERHEAD


def _actor() -> WcActor:
    return WcActor.of(current_principal(), request.remote_addr)


# --- reference data ------------------------------------------------------------------------------
@blp.route("/provinces")
@blp.response(200, s.ProvinceSchema(many=True))
def list_provinces() -> Any:
    """The 77 provinces."""
    return get_session().scalars(select(Province).order_by(Province.code)).all()


@blp.route("/areas")
@blp.arguments(s.AreaArgs, location="query")
@blp.response(200, s.AreaSchema(many=True))
def list_areas(args: dict[str, Any]) -> Any:
    """Districts (เขต/อำเภอ) of a province, or of the whole country."""
    stmt = select(Area).order_by(Area.code)
    if args.get("province_code"):
        stmt = stmt.where(Area.province_code == args["province_code"])
    return [records.area_view(a) for a in get_session().scalars(stmt)]


@blp.route("/vocabulary")
@blp.response(200, s.VocabularySchema)
def vocabulary() -> Any:
    """Agencies, groups, results, progress and project kinds with their Thai names."""

    def pairs(mapping: dict[str, str]) -> list[dict[str, str]]:
        return [{"code": k, "name_th": v, "full_name_th": v} for k, v in mapping.items()]

    return {
        "agencies": [
            {"code": a.code, "name_th": a.name_th, "full_name_th": a.full_name_th} for a in AGENCIES
        ],
        "groups": pairs(GROUPS),
        "results": pairs(RESULTS),
        "progress": pairs(PROGRESS),
        "project_kinds": pairs(PROJECT_KINDS),
    }


@blp.route("/phases")
@blp.response(200, s.PhasesSchema)
def phases() -> Any:
    """The deadlines in force: per phase and per follow-up round (configuration)."""
    conf = settings()
    return {"phases": list(conf.phases.values()), "rounds": list(conf.rounds.values())}


# --- imports -------------------------------------------------------------------------------------
@blp.route("/imports", methods=["POST"])
@require_roles(*IMPORTERS)
@blp.arguments(s.ImportFormSchema, location="form")
@blp.arguments(s.ImportFileSchema, location="files")
@blp.response(202, s.ImportAcceptedSchema)
@blp.alt_response(413, description="File too large (or an xlsx that would unpack too far)")
@blp.alt_response(415, description="Not an xlsx or csv list")
def upload_import(form: dict[str, Any], files: dict[str, Any]) -> Any:
    """Upload a participants list for a province and agency; intake's worker applies it (202 + job)."""
    conf = settings()
    data = files["file"].stream.read(conf.max_import_bytes + 1)
    session = get_session()
    with session.begin():
        who = _actor()
        job = new_job(
            session, kind="welfare_card.import", district_code=form["province_code"], created_by=who.username
        )
        imp = imports.request_import(
            session,
            actor=who,
            job=job,
            filename=files["file"].filename,
            data=data,
            province_code=form["province_code"],
            agency=form["agency"],
            settings=conf,
        )
    return {"job_id": job.id, "import_id": imp.id, "status": imp.status}


@blp.route("/imports")
@require_roles(*IMPORTERS)
@blp.arguments(PageArgs, location="query")
@blp.response(200, s.ImportListSchema)
def list_imports(args: dict[str, Any]) -> Any:
    """Imports the caller may see, newest first."""
    rows, total = imports.list_imports(get_session(), _actor(), page=args["page"], per_page=args["per_page"])
    return {"items": [imports.import_view(r) for r in rows], "total": total}


@blp.route("/imports/<int:import_id>")
@require_roles(*IMPORTERS)
@blp.response(200, s.ImportSchema)
def get_import(import_id: int) -> Any:
    """What an import did: status, counts and the rejected lines by line number."""
    return imports.import_view(imports.get_import(get_session(), import_id, _actor()))


# --- participants --------------------------------------------------------------------------------
@blp.route("/participants")
@require_roles(*READERS)
@blp.arguments(s.ParticipantArgs, location="query")
@blp.response(200, s.ParticipantListSchema)
def list_participants(args: dict[str, Any]) -> Any:
    """Participants within the caller's scope (masked national IDs)."""
    page, per_page = args.pop("page"), args.pop("per_page")
    items, total = records.find_participants(get_session(), _actor(), args, page=page, per_page=per_page)
    return {"items": items, "total": total}


@blp.route("/participants/<national_id>")
@require_roles(*READERS)
@blp.response(200, s.ParticipantDetailSchema)
def get_participant(national_id: str) -> Any:
    """One participant with development results and follow-ups (404 outside the caller's scope);
    the answer shows the national ID in full, so the read is audited."""
    with ctx().sessions.begin() as session:  # a write session: the read is audited
        return records.participant_detail(session, national_id, _actor())


@blp.route("/participants/<national_id>/developments", methods=["POST"])
@require_roles(*DEVELOPMENT_RECORDERS)
@blp.arguments(s.DevelopmentWriteSchema)
@blp.response(201, s.DevelopmentSchema)
def record_development(data: dict[str, Any], national_id: str) -> Any:
    """Record a project's result for a participant (201); the same project again corrects it (200)."""
    session = get_session()
    with session.begin():
        row, project, created = records.record_development(session, _actor(), national_id, data, settings())
    return records.development_view(row, project), (201 if created else 200)


@blp.route("/participants/<national_id>/follow-ups", methods=["POST"])
@require_roles(*FOLLOW_UP_RECORDERS)
@blp.arguments(s.FollowUpWriteSchema)
@blp.response(201, s.FollowUpSchema)
def record_follow_up(data: dict[str, Any], national_id: str) -> Any:
    """Record a participant's progress for a round (201); the same round again corrects it (200)."""
    session = get_session()
    with session.begin():
        row, created = records.record_follow_up(session, _actor(), national_id, data, settings())
    return records.follow_up_view(row), (201 if created else 200)


# --- projects ------------------------------------------------------------------------------------
@blp.route("/projects")
@require_roles(*READERS)
@blp.arguments(s.ProjectArgs, location="query")
@blp.response(200, s.ProjectSchema(many=True))
def list_projects(args: dict[str, Any]) -> Any:
    """Development projects (an agency recorder sees their agency's)."""
    return records.list_projects(get_session(), _actor(), args)


@blp.route("/projects", methods=["POST"])
@require_roles(*PROJECT_WRITERS)
@blp.arguments(s.ProjectWriteSchema)
@blp.response(201, s.ProjectSchema)
def create_project(data: dict[str, Any]) -> Any:
    """Add a project: an agency's (agency recorder) or an additional provincial one (secretariat)."""
    session = get_session()
    with session.begin():
        return records.create_project(session, _actor(), data)


# --- registration places -------------------------------------------------------------------------
@blp.route("/registration-places")
@blp.arguments(s.PlaceArgs, location="query")
@blp.response(200, s.PlaceSchema(many=True))
def list_places(args: dict[str, Any]) -> Any:
    """Registration places of a district or province (any logged-in user)."""
    return records.list_places(get_session(), args)


@blp.route("/registration-places", methods=["POST"])
@require_roles(*PLACE_WRITERS)
@blp.arguments(s.PlaceWriteSchema)
@blp.response(201, s.PlaceSchema)
def add_place(data: dict[str, Any]) -> Any:
    """Add a registration place to a district (district team: their own)."""
    session = get_session()
    with session.begin():
        return records.place_view(records.add_place(session, _actor(), data))


@blp.route("/registration-places/<int:place_id>", methods=["PATCH"])
@require_roles(*PLACE_WRITERS)
@blp.arguments(s.PlacePatchSchema)
@blp.response(200, s.PlaceSchema)
def update_place(changes: dict[str, Any], place_id: int) -> Any:
    """Change a registration place, or take it off the public page (``active: false``)."""
    session = get_session()
    with session.begin():
        return records.place_view(records.update_place(session, _actor(), place_id, changes))


# --- intents ---------------------------------------------------------------------------------------
@blp.route("/intents", methods=["POST"])
@require_roles(*INTENT_RECORDERS)
@blp.arguments(s.IntentWriteSchema)
@blp.response(201, s.IntentSchema)
def register_intent(data: dict[str, Any]) -> Any:
    """Record a citizen's wish to join (แบบย่อ) in the caller's district; 409 when already recorded."""
    session = get_session()
    with session.begin():
        return records.intent_view(records.register_intent(session, _actor(), data), masked=False)


@blp.route("/intents")
@require_roles(*READERS)
@blp.arguments(s.IntentArgs, location="query")
@blp.response(200, s.IntentListSchema)
def list_intents(args: dict[str, Any]) -> Any:
    """Intents within the caller's scope (masked national IDs)."""
    page, per_page = args.pop("page"), args.pop("per_page")
    items, total = records.find_intents(get_session(), _actor(), args, page=page, per_page=per_page)
    return {"items": items, "total": total}


# --- the public self-check -----------------------------------------------------------------------------
@blp.route("/public/<national_id>")
@blp.response(200, s.PublicCheckSchema)
@public
def public_check(national_id: str) -> Any:
    """The public self-check, for the gateway's rate-limited ``/api/public/welfare-card/{id}`` only.

    13 ASCII digits or 400; a wrong check digit and an unknown ID get the same answer.
    """
    given = request.headers.get(PUBLIC_CHECK_HEADER, "")
    if not hmac.compare_digest(given, public_check_key(ctx().secret)):
        raise NotFound("ไม่พบข้อมูลที่ต้องการ")  # reached without the gateway's rate limit
    if not (len(national_id) == 13 and national_id.isascii() and national_id.isdigit()):
        raise WelfareCardError(
            "กรุณากรอกเลขประจำตัวประชาชน 13 หลัก (ตัวเลขอารบิก ไม่มีขีดหรือช่องว่าง)",
            field="national_id",
            code="invalid_national_id",
        )
    return records.public_check(get_session(), national_id)
