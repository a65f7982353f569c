"""The HTTP layer every service shares: app factory steps, errors, auth, health, jobs, ops.

Errors always have the CONTRACT's shape ``{"error": {"code", "message", "fields"}}``; people
read the message, so it is Thai.  Services check the bearer token themselves (not only the
gateway) and scope every object to the caller's district.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from celery import Celery
from flask import Flask, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import INCLUDE, Schema, fields, validate
from marshmallow import ValidationError as SchemaValidationError
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

from shared import audit, auth, messaging
from shared.celery import make_celery, queue_depth
from shared.config import SERVICES, database_url, env_int, secret_key
from shared.db import make_engine, make_sessionmaker, utcnow
from shared.errors import ValidationError
from shared.inbox import replay
from shared.logging import configure_logging
from shared.models import DeadLetter, Job, MessageAttempt, OutboxMessage, WorkerHeartbeat

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


# --- Thai messages ---------------------------------------------------------------------------
STATUS_MESSAGES = {
    400: "ข้อมูลที่ส่งมาไม่ถูกต้อง",
    401: "กรุณาเข้าสู่ระบบ",
    403: "ท่านไม่มีสิทธิ์ทำรายการนี้",
    404: "ไม่พบข้อมูลที่ต้องการ",
    405: "ไม่รองรับวิธีเรียกใช้งานนี้",
    409: "สถานะของข้อมูลไม่อนุญาตให้ทำรายการนี้",
    413: "ไฟล์หรือข้อมูลมีขนาดใหญ่เกินกำหนด",
    415: "ชนิดของไฟล์หรือข้อมูลไม่ถูกต้อง",
    422: "ข้อมูลขัดกับหลักเกณฑ์",
    429: "ทำรายการบ่อยเกินไป กรุณารอสักครู่แล้วลองใหม่",
    500: "ระบบขัดข้อง กรุณาลองใหม่อีกครั้ง",
    503: "ระบบไม่พร้อมให้บริการชั่วคราว กรุณาลองใหม่อีกครั้ง",
}
STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "rule_broken",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}
# marshmallow's English messages, as the officer should read them.
FIELD_MESSAGES = {
    "Missing data for required field.": "กรุณากรอกข้อมูลช่องนี้",
    "Field may not be null.": "ช่องนี้ต้องมีค่า",
    "Unknown field.": "ไม่รู้จักช่องข้อมูลนี้",
    "Not a valid string.": "ต้องเป็นข้อความ",
    "Not a valid integer.": "ต้องเป็นจำนวนเต็ม",
    "Not a valid number.": "ต้องเป็นตัวเลข",
    "Not a valid boolean.": "ต้องเป็นใช่หรือไม่ใช่ (true/false)",
    "Not a valid date.": "รูปแบบวันที่ไม่ถูกต้อง (ปปปป-ดด-วว)",
    "Not a valid datetime.": "รูปแบบวันเวลาไม่ถูกต้อง",
    "Not a valid email address.": "รูปแบบอีเมลไม่ถูกต้อง",
    "Not a valid mapping type.": "ต้องเป็นข้อมูลแบบออบเจกต์",
    "Not a valid list.": "ต้องเป็นรายการ",
    "Not a valid UUID.": "รหัสอ้างอิงไม่ถูกต้อง",
    "Invalid input type.": "ชนิดข้อมูลไม่ถูกต้อง",
    "Invalid JSON body.": "ข้อมูล JSON ไม่ถูกต้อง",
    "Invalid value.": "ค่าไม่ถูกต้อง",
    "Must be one of": "ต้องเป็นค่าใดค่าหนึ่งต่อไปนี้",
    "Length must be between": "ความยาวต้องอยู่ระหว่าง",
    "Shorter than minimum length": "สั้นเกินไป",
    "Longer than maximum length": "ยาวเกินกำหนด",
    "Must be greater than or equal to": "ต้องไม่น้อยกว่า",
    "Must be less than or equal to": "ต้องไม่มากกว่า",
    "Must be greater than": "ต้องมากกว่า",
    "Must be less than": "ต้องน้อยกว่า",
    "String does not match expected pattern.": "รูปแบบไม่ถูกต้อง",
}


def thai_message(message: str) -> str:
    """Translate a marshmallow/webargs message to Thai (known prefixes keep their detail)."""
    if message in FIELD_MESSAGES:
        return FIELD_MESSAGES[message]
    for prefix, thai in FIELD_MESSAGES.items():
        if message.startswith(prefix):
            rest = message[len(prefix) :].rstrip(".")
            for english, thai_rest in _CONNECTORS:
                rest = rest.replace(english, thai_rest)
            return thai + rest
    return message


#: The second halves of marshmallow's range messages ("… 2500 and less than or equal to 2700").
_CONNECTORS = (
    (" and less than or equal to ", " และไม่มากกว่า "),
    (" and less than ", " และน้อยกว่า "),
    (" and greater than or equal to ", " และไม่น้อยกว่า "),
    (" and greater than ", " และมากกว่า "),
    (" and ", " ถึง "),  # "between 1 and 80"
)


def flatten_fields(errors: Any, prefix: str = "") -> dict[str, str]:
    """Flatten marshmallow's nested error dict to ``{"bank.account_no": "<Thai>"}``."""
    out: dict[str, str] = {}
    if isinstance(errors, Mapping):
        for key, value in errors.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema" and prefix:
                name = prefix  # a nested object of the wrong type: name the object ("bank")
            if name in {"json", "form", "query", "files", "view_args", "querystring", "headers"}:
                name = ""
            out.update(flatten_fields(value, name))
    elif isinstance(errors, list | tuple):
        strings = [e for e in errors if isinstance(e, str)]
        if strings:
            out[prefix or "_"] = " ".join(thai_message(s) for s in strings)
        for item in errors:
            if not isinstance(item, str):
                out.update(flatten_fields(item, prefix))
    elif isinstance(errors, str):
        out[prefix or "_"] = thai_message(errors)
    return out


def error_body(
    status: int,
    message: str | None = None,
    *,
    code: str | None = None,
    fields_: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The CONTRACT's error object."""
    body: dict[str, Any] = {
        "code": code or STATUS_CODES.get(status, "error"),
        "message": message or STATUS_MESSAGES.get(status, "เกิดข้อผิดพลาด"),
    }
    if fields_:
        body["fields"] = dict(fields_)
    return {"error": body}


class ApiError(HTTPException):
    """An error a view raises on purpose: status, Thai message, optional code and fields."""

    def __init__(
        self,
        status: int,
        message: str | None = None,
        *,
        code: str | None = None,
        fields: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(description=message)
        self.code = status
        self.body = error_body(status, message, code=code, fields_=fields)
        if extra:
            self.body["error"].update(extra)


class ThaiApi(Api):  # type: ignore[misc]
    """flask-smorest's Api with errors in the CONTRACT's shape."""

    def handle_http_exception(self, error: HTTPException) -> ResponseReturnValue:
        return http_error_response(error)


def http_error_response(error: HTTPException) -> ResponseReturnValue:
    """Render any HTTPException as the CONTRACT's JSON error."""
    status = error.code or 500
    if isinstance(error, ApiError):
        return jsonify(error.body), status
    data = getattr(error, "data", None) or {}
    fields_ = flatten_fields(data.get("messages") or data.get("errors") or {})
    message = data.get("message")
    if status == 400 and fields_:
        message = message or "ข้อมูลไม่ถูกต้อง: " + ", ".join(sorted(fields_))
    headers = data.get("headers") or {}
    response = jsonify(error_body(status, message, fields_=fields_))
    response.status_code = status
    for key, value in headers.items():
        response.headers[key] = value
    if status == 405 and error.get_response().headers.get("Allow"):
        response.headers["Allow"] = error.get_response().headers["Allow"]
    return response


#: The widest integer a database column holds (PostgreSQL BIGINT, SQLite INTEGER).
INT64_MAX = 2**63 - 1
NUL_MESSAGE = "มีอักขระควบคุม (NUL) ที่ไม่อนุญาต"
TOO_BIG_MESSAGE = "ตัวเลขมีค่ามากเกินกว่าที่ระบบรับได้"


def _nul_errors(value: Any, prefix: str = "") -> dict[str, list[str]]:
    """Fields (dotted paths) whose key or text holds NUL, which PostgreSQL cannot store (reliability S4)."""
    out: dict[str, list[str]] = {}
    items: Iterable[tuple[Any, Any]] = ()
    if hasattr(value, "items") and callable(value.items):
        multi = getattr(value, "data", value)  # webargs' MultiDictProxy wraps a werkzeug MultiDict
        try:
            items = list(multi.items(multi=True))
        except TypeError:
            items = list(multi.items())
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    elif isinstance(value, str) and "\x00" in value:
        out[prefix or "_"] = [NUL_MESSAGE]
    for key, item in items:
        name = f"{prefix}.{key}" if prefix else str(key)
        if "\x00" in str(key):
            out[name.replace("\x00", "")] = [NUL_MESSAGE]
        else:
            out.update(_nul_errors(item, name))
    return out


def _too_big_errors(value: Any, prefix: str = "") -> dict[str, list[str]]:
    """Fields holding integers no database column can take (they would fail in the database)."""
    out: dict[str, list[str]] = {}
    if isinstance(value, bool):
        return out
    if isinstance(value, int) and not -INT64_MAX <= value <= INT64_MAX:
        out[prefix or "_"] = [TOO_BIG_MESSAGE]
    elif isinstance(value, Mapping):
        for key, item in value.items():
            out.update(_too_big_errors(item, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            out.update(_too_big_errors(item, f"{prefix}.{i}" if prefix else str(i)))
    return out


class Parser(FlaskParser):
    """webargs parser answering 400 (bad input) rather than 422, which the CONTRACT keeps for rules.

    It also refuses, naming the field, what the schemas let through but the database cannot take:
    text with NUL characters and integers beyond 64 bits; and JSON nested too deeply to parse.
    """

    DEFAULT_VALIDATION_STATUS = 400

    def _raw_load_json(self, req: Any) -> Any:
        try:
            return super()._raw_load_json(req)
        except RecursionError as exc:  # nested deeper than Python's recursion limit
            self._handle_invalid_json_error(exc, req)  # type: ignore[arg-type]

    def _load_location_data(self, *, schema: Any, req: Any, location: str) -> Any:
        data = super()._load_location_data(schema=schema, req=req, location=location)
        if location != "files":
            errors = _nul_errors(data)
            if errors:
                raise SchemaValidationError(errors)
        return data

    def _process_location_data(self, location_data: Any, *args: Any, **kwargs: Any) -> Any:
        data = super()._process_location_data(location_data, *args, **kwargs)
        errors = _too_big_errors(data)
        if errors:
            raise SchemaValidationError(errors)
        return data


class Blueprint(SmorestBlueprint):  # type: ignore[misc]
    """A flask-smorest Blueprint using the 400 parser."""

    ARGUMENTS_PARSER = Parser()


# --- service context and sessions --------------------------------------------------------------
@dataclass
class ServiceContext:
    """What a service keeps in ``app.extensions["ecase"]``."""

    name: str
    engine: Engine
    sessions: sessionmaker[Session]
    read_sessions: sessionmaker[Session]
    celery: Celery
    secret: str


def ctx() -> ServiceContext:
    """The running service's context (inside an app context)."""
    return cast(ServiceContext, current_app.extensions["ecase"])


def get_session() -> Session:
    """The request's session, created on first use and closed at teardown.

    GET and HEAD requests read through a read-only engine, so on SQLite they never queue
    behind a writer.
    """
    if "db_session" not in g:
        reading = request.method in ("GET", "HEAD")
        g.db_session = (ctx().read_sessions if reading else ctx().sessions)()
    return cast(Session, g.db_session)


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


# --- auth ----------------------------------------------------------------------------------------
def public(view: F) -> F:
    """Mark a view as callable without a token (health, OpenAPI, public checks)."""
    view.ecase_public = True  # type: ignore[attr-defined]
    return view


def current_principal() -> auth.Principal:
    """The authenticated caller of this request."""
    return cast(auth.Principal, g.principal)


def require_roles(*roles: str) -> Callable[[F], F]:
    """Allow only the given roles (403 otherwise)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if current_principal().role not in roles:
                raise ApiError(403, "บทบาทของท่านไม่มีสิทธิ์ทำรายการนี้", code="wrong_role")
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorator


def _authenticate() -> None:
    if not request.path.startswith("/api/"):
        return  # web pages have their own (cookie) sessions
    view = current_app.view_functions.get(request.endpoint or "")
    if request.endpoint is None or view is None:
        return  # 404/405 are answered by the error handlers
    if getattr(view, "ecase_public", False) or request.endpoint.startswith(("api-docs.", "static")):
        return
    try:
        g.principal = auth.principal_from_header(request.headers.get("Authorization"), secret=ctx().secret)
    except auth.AuthError as exc:
        raise ApiError(401, exc.message, code=exc.code) from None


def _refuse_impossible_path() -> None:
    """404 for a path no object can have: NUL in it, or an id beyond 64 bits (reliability S4)."""
    if "\x00" in request.path or any(
        isinstance(v, int) and not -INT64_MAX <= v <= INT64_MAX for v in (request.view_args or {}).values()
    ):
        raise ApiError(404)


def district_filter_value() -> str | None:
    """The district a caller is limited to, or None for city-wide roles."""
    principal = current_principal()
    return None if principal.is_city_wide else principal.district_code


def ensure_district(district_code: str | None) -> None:
    """404 when an object of another district is asked for (its existence is not revealed)."""
    if not current_principal().can_see_district(district_code):
        raise ApiError(404)


# --- common schemas ------------------------------------------------------------------------------
class PageArgs(Schema):
    """``?page=&per_page=`` of every list."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class ErrorDetailSchema(Schema):
    """The body of an error (services may add keys, e.g. payment's per-line ``errors``)."""

    class Meta:
        unknown = INCLUDE

    code = fields.String()
    message = fields.String()
    fields = fields.Dict(keys=fields.String(), values=fields.String())


class ErrorSchema(Schema):
    """Every error response."""

    error = fields.Nested(ErrorDetailSchema)


class HealthSchema(Schema):
    """Health of one service."""

    status = fields.String()
    service = fields.String()
    db = fields.String()
    broker = fields.String()


class JobSchema(Schema):
    """A long-running job."""

    job_id = fields.String(attribute="id")
    kind = fields.String()
    status = fields.String()
    progress = fields.Dict(allow_none=True)
    result = fields.Raw(allow_none=True)
    error = fields.Raw(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class DeadLetterSchema(Schema):
    """A parked message (the body is not shown: it may hold personal data)."""

    id = fields.String()
    service = fields.String()
    event_id = fields.String()
    event_type = fields.String()
    consumer = fields.String()
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    status = fields.String()
    created_at = fields.DateTime()
    replayed_at = fields.DateTime(allow_none=True)
    replayed_by = fields.String(allow_none=True)


class ProbeArgs(Schema):
    """Send an ops.probe to a queue (operators; tests; benchmarks)."""

    key = fields.String(required=True, validate=validate.Length(min=1, max=120))
    queue = fields.String(required=True, validate=validate.OneOf(messaging.QUEUES))
    fault = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(["raise", "exit", "sleep"])
    )
    sleep_ms = fields.Integer(load_default=0, validate=validate.Range(min=0, max=60_000))
    fail_times = fields.Integer(load_default=0, validate=validate.Range(min=0, max=100))
    count = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))


# --- jobs ----------------------------------------------------------------------------------------
def new_job(session: Session, *, kind: str, district_code: str | None, created_by: str | None) -> Job:
    """Create a queued job of this service; its id names the service for /api/jobs routing."""
    job = Job(
        id=f"{ctx().name}-{uuid.uuid4().hex}",
        kind=kind,
        status="queued",
        district_code=district_code,
        created_by=created_by,
        progress={},
    )
    session.add(job)
    return job


# --- platform blueprint (health, jobs, ops) ------------------------------------------------------
def platform_blueprint(service: str, *, messaging_endpoints: bool = True) -> Blueprint:
    """Endpoints every service has under /api/<service>/ (the gateway: health only)."""
    blp = Blueprint(
        f"{service}_platform",
        __name__,
        url_prefix=f"/api/{service}",
        description="Health, jobs and operations",
    )

    @blp.route("/health")
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, schema=HealthSchema)
    @public
    def health() -> Any:
        """Report the service's database and broker."""
        db_state = "ok"
        try:
            with ctx().engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:
            db_state = f"error: {type(exc).__name__}"
        broker_state = "ok"
        try:
            with ctx().celery.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
        except Exception as exc:
            broker_state = f"error: {type(exc).__name__}"
        ok = db_state == "ok" and broker_state == "ok"
        body = {
            "status": "ok" if ok else "degraded",
            "service": service,
            "db": db_state,
            "broker": broker_state,
        }
        return body, (200 if ok else 503)

    if not messaging_endpoints:
        return blp

    @blp.route("/jobs/<job_id>")
    @blp.response(200, JobSchema)
    def get_job(job_id: str) -> Any:
        """Follow a long-running job of this service."""
        job = get_session().get(Job, job_id)
        if job is None:
            raise ApiError(404, "ไม่พบงานที่ต้องการ")
        ensure_district(job.district_code)
        return job

    @blp.route("/ops/status")
    @blp.response(200)
    @require_roles("operator", "central_admin")
    def ops_status() -> Any:
        """Queue depth, workers, unsent outbox rows and dead letters of this service."""
        session = get_session()
        workers = session.scalars(select(WorkerHeartbeat)).all()
        now = utcnow()
        recent = session.scalars(
            select(MessageAttempt)
            .where(MessageAttempt.last_error.is_not(None))
            .order_by(MessageAttempt.last_at.desc())
            .limit(20)
        ).all()
        return {
            "service": service,
            "queue": service if service in messaging.QUEUES else None,
            "queue_depth": queue_depth(ctx().celery, service) if service in messaging.QUEUES else None,
            "outbox_unsent": session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.published_at.is_(None))
            ),
            "dead_letters_parked": session.scalar(
                select(func.count()).select_from(DeadLetter).where(DeadLetter.status == "parked")
            ),
            "workers": [
                {
                    "hostname": w.hostname,
                    "pid": w.pid,
                    "seen_at": w.seen_at.isoformat(),
                    "alive": (now - w.seen_at).total_seconds() < 30,
                }
                for w in workers
            ],
            "recent_failures": [
                {
                    "event_id": a.event_id,
                    "consumer": a.consumer,
                    "attempts": a.attempts,
                    "last_error": (a.last_error or "")[:300],
                    "last_at": a.last_at.isoformat(),
                }
                for a in recent
            ],
        }

    @blp.route("/ops/dead-letters")
    @blp.response(200, DeadLetterSchema(many=True))
    @require_roles("operator", "central_admin")
    def list_dead_letters() -> Any:
        """Messages parked after too many failed attempts."""
        rows = get_session().scalars(select(DeadLetter).order_by(DeadLetter.id.desc()).limit(500)).all()
        return [_dead_letter_view(service, r) for r in rows]

    @blp.route("/ops/dead-letters/<int:dead_letter_id>/replay", methods=["POST"])
    @blp.response(200, DeadLetterSchema)
    @require_roles("operator")
    def replay_dead_letter(dead_letter_id: int) -> Any:
        """Send a parked message again with a fresh attempt budget."""
        session = get_session()
        with session.begin():
            row = session.get(DeadLetter, dead_letter_id)
            if row is None:
                raise ApiError(404, "ไม่พบข้อความที่ค้างอยู่")
            if row.status != "parked":
                raise ApiError(409, "ข้อความนี้ถูกส่งใหม่ไปแล้ว", code="already_replayed")
            replay(session, dead_letter_id, actor=current_principal().username)
            audit.record(
                session,
                action="dead_letter.replay",
                object_type="dead_letter",
                object_id=str(row.id),
                actor=current_principal().username,
                role=current_principal().role,
                ip=request.remote_addr,
                fields=("status",),
                before={"status": "parked"},
                after={"status": row.status},
            )
        return _dead_letter_view(service, row)

    @blp.route("/ops/probe", methods=["POST"])
    @blp.arguments(ProbeArgs)
    @require_roles("operator")
    def send_probe(args: dict[str, Any]) -> Any:
        """Publish keyed ops.probe events through this service's outbox (checks and benchmarks)."""
        if args.get("fault") and not current_app.config.get("ALLOW_FAULTS"):
            raise ApiError(403, "ไม่อนุญาตให้จำลองความผิดพลาดในระบบนี้", code="faults_disabled")
        session = get_session()
        with session.begin():
            for i in range(args["count"]):
                key = args["key"] if args["count"] == 1 else f"{args['key']}-{i}"
                messaging.publish(
                    session,
                    "ops.probe",
                    {
                        "key": key,
                        "sent_at": utcnow().isoformat(),
                        "fault": args.get("fault"),
                        "sleep_ms": args["sleep_ms"],
                        "fail_times": args["fail_times"],
                    },
                    producer=service,
                    destinations=(args["queue"],),
                )
        return {"sent": args["count"]}, 202

    @blp.route("/ops/probes/<path:key>")
    @blp.response(200)
    @require_roles("operator")
    def probe_receipt(key: str) -> Any:
        """Whether this service's worker has applied the probe with this key."""
        from shared.models import ProbeReceipt

        row = get_session().get(ProbeReceipt, key)
        if row is None:
            raise ApiError(404, "ยังไม่ได้รับข้อความทดสอบนี้")
        return {
            "key": row.key,
            "received_at": row.received_at.isoformat(),
            "sent_at": row.sent_at.isoformat(),
            "executions": row.executions,
        }

    return blp


def _dead_letter_view(service: str, row: DeadLetter) -> dict[str, Any]:
    return {
        "id": f"{service}-{row.id}",
        "service": service,
        "event_id": row.event_id,
        "event_type": row.event_type,
        "consumer": row.consumer,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "status": row.status,
        "created_at": row.created_at,
        "replayed_at": row.replayed_at,
        "replayed_by": row.replayed_by,
    }


# --- the factory -------------------------------------------------------------------------------
def create_service_app(
    service: str,
    config: Mapping[str, Any] | None,
    *,
    title: str,
    blueprints: Iterable[Blueprint] = (),
    description: str = "",
    messaging_endpoints: bool = True,
) -> Flask:
    """Build a service's Flask app: config, database, Celery, API, errors, auth."""
    if service not in SERVICES:
        raise ValueError(service)
    app = Flask(service)
    _init_config(app, service, config)
    if not app.testing:
        configure_logging(service)
    _init_db(app, service)
    platform = platform_blueprint(service, messaging_endpoints=messaging_endpoints)
    _init_api(app, service, title, description, [platform, *blueprints])
    _register_error_handlers(app)
    app.before_request(_authenticate)
    app.before_request(_refuse_impossible_path)
    app.after_request(_security_headers)
    app.teardown_appcontext(_close_session)
    return app


def _init_config(app: Flask, service: str, config: Mapping[str, Any] | None) -> None:
    app.config.update(
        DATABASE_URL=database_url(service),
        SECRET_KEY=None,
        MAX_CONTENT_LENGTH=env_int("MAX_REQUEST_BYTES", 25 * 1024 * 1024, service=service),
        JSON_SORT_KEYS=False,
        ALLOW_FAULTS=False,
        API_TITLE="E-Case",
        API_VERSION="1.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=f"/api/{service}",
        OPENAPI_JSON_PATH="openapi.json",
    )
    from shared.config import env_bool

    app.config["ALLOW_FAULTS"] = env_bool("ALLOW_FAULTS", False)
    app.config.from_prefixed_env(f"ECASE_{service.upper()}")
    if config:
        app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key()


def _init_db(app: Flask, service: str) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    read_engine = (
        make_engine(app.config["DATABASE_URL"], read_only=True) if engine.dialect.name == "sqlite" else engine
    )
    app.extensions["ecase"] = ServiceContext(
        name=service,
        engine=engine,
        sessions=make_sessionmaker(engine),
        read_sessions=make_sessionmaker(read_engine),
        celery=make_celery(service, flask_app=app),
        secret=app.config["SECRET_KEY"],
    )


def _init_api(app: Flask, service: str, title: str, description: str, blueprints: list[Blueprint]) -> None:
    app.config["API_TITLE"] = title
    app.config["API_SPEC_OPTIONS"] = {
        "info": {"description": description},
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
        },
        "security": [{"bearerAuth": []}],
    }
    api = ThaiApi()
    api.ERROR_SCHEMA = ErrorSchema  # before init_app, which documents the default error response with it
    api.init_app(app)
    api.ma_plugin.converter.add_attribute_function(_decimal_as_string)
    for blp in blueprints:
        api.register_blueprint(blp)
    app.extensions["ecase_api"] = api


def _decimal_as_string(self: Any, field: fields.Field, **kwargs: Any) -> dict[str, Any]:
    """Document money as the strings it travels as ("3000.00"), not as JSON numbers."""
    if isinstance(field, fields.Decimal) and field.as_string:
        return {"type": "string", "format": "decimal"}
    return {}


def _register_error_handlers(app: Flask) -> None:
    app.register_error_handler(ValidationError, _domain_validation_error)
    app.register_error_handler(DataError, _database_refused_value)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(DBAPIError, _database_unavailable)
    app.register_error_handler(Exception, _unexpected_error)


def _domain_validation_error(exc: ValidationError) -> ResponseReturnValue:
    fields_ = {exc.field: exc.message} if exc.field else None
    return jsonify(error_body(400, exc.message, code=exc.code, fields_=fields_)), 400


def _database_refused_value(exc: DataError) -> ResponseReturnValue:
    """The database refused a value (out of range, NUL, bad text): bad input, not an outage."""
    log.warning("database refused a value on %s %s: %s", request.method, request.path, type(exc.orig))
    message = "ข้อมูลบางช่องมีค่าที่ระบบจัดเก็บไม่ได้ (เช่น ตัวเลขใหญ่เกินไป หรือมีอักขระที่ไม่อนุญาต)"
    return jsonify(error_body(400, message, code="invalid_value")), 400


def _database_unavailable(exc: Exception) -> ResponseReturnValue:
    log.error("database unavailable: %s", type(exc).__name__)
    return jsonify(error_body(503)), 503


def _unexpected_error(exc: Exception) -> ResponseReturnValue:
    if isinstance(exc, HTTPException):
        return http_error_response(exc)
    log.error("unexpected error on %s %s", request.method, request.path, exc_info=exc)
    return jsonify(error_body(500)), 500


def _security_headers(response: Any) -> Any:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response
