"""Payment's HTTP endpoints (CONTRACT.md "Payment"; additions in docs/payment.md).

Roles: the district's ``finance`` officer and section ``head`` act; the district's ``officer``
and the ``central_admin`` read; the ``operator`` sees no payee data (403).  Another district's
batch, line, file or import is 404.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Response, current_app, g, request
from sqlalchemy.orm import Session

from services.payment import reports, schemas, services
from services.payment.config import PaymentSettings
from services.payment.models import PaymentAlert
from services.payment.services import Actor
from shared.idempotency import StoredResponse, idempotent
from shared.web import ApiError, Blueprint, ctx, current_principal, get_session, new_job, require_roles

blp = Blueprint(
    "payment",
    __name__,
    url_prefix="/api/payment",
    description="Payout batches, KTB Corporate Online files, bank results and settlement",
)
READ = ("officer", "head", "finance", "central_admin")
ACT = ("finance", "head")
F = TypeVar("F", bound=Callable[..., Any])
MIMETYPES = {
    "txt": "text/plain; charset=windows-874",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def errors_as_http(view: F) -> F:
    """Map the use cases' errors to the CONTRACT's status codes."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except services.NotFound as exc:
            raise ApiError(404, exc.message) from None
        except services.Conflict as exc:
            raise ApiError(409, exc.message, code=exc.code) from None
        except services.RuleBroken as exc:
            raise ApiError(422, exc.message, code=exc.code, extra={"problems": exc.problems}) from None
        except reports.ReportError as exc:
            raise ApiError(exc.status, exc.message, code=exc.code, extra={"errors": exc.errors}) from None

    return cast(F, wrapper)


def actor() -> Actor:
    """The caller as the use cases see them."""
    p = current_principal()
    return Actor(p.username, p.role, p.district_code, request.remote_addr)


def settings() -> PaymentSettings:
    """This service's settings (read once at start)."""
    return cast(PaymentSettings, current_app.extensions["payment_settings"])


def write_session() -> Session:
    """A writing session for the GET downloads: making and recording a file are writes."""
    if "db_session" not in g:
        g.db_session = ctx().sessions()
    return cast(Session, g.db_session)


def full_accounts(district_code: str) -> bool:
    """Full account numbers for the owning district's finance and head, and the central office."""
    p = current_principal()
    return p.role == "central_admin" or (p.role in ACT and p.district_code == district_code)


def file_response(pf: Any, fmt: str, *, created: bool) -> Response:
    """The file as an attachment, with its checksum and manifest in headers."""
    body = pf.txt_content if fmt == "txt" else pf.xlsx_content
    name = pf.txt_name if fmt == "txt" else pf.txt_name.rsplit(".", 1)[0] + ".xlsx"
    response = Response(body, content_type=MIMETYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["X-Payment-File-Id"] = str(pf.id)
    response.headers["X-Payment-File-Sha256"] = pf.txt_sha256 if fmt == "txt" else pf.xlsx_sha256
    response.headers["X-Payment-File-Lines"] = str(pf.line_count)
    response.headers["X-Payment-File-Total"] = f"{pf.total_amount:.2f}"
    response.headers["X-Payment-File-Created"] = "1" if created else "0"
    response.headers["X-Payment-File-Effective-Date"] = pf.effective_date.isoformat()
    if pf.placeholder_config:
        response.headers["X-Ecase-Placeholder-Config"] = "1"
    return response


@errors_as_http
def replay_download(stored: StoredResponse) -> Response:
    """A repeated download with the same Idempotency-Key: the file the first request made, again.

    The stored answer keeps only the headers (a file may be ~50 MB); the body is the file's
    stored bytes, which never change.  Handing them out again is recorded as a download.
    """
    fmt = (request.view_args or {})["fmt"]
    session = write_session()
    with session.begin():
        pf = services.get_file(session, int(stored.headers["X-Payment-File-Id"]), actor())
        services.record_download(session, pf, fmt=fmt, actor=actor(), created=False)
    return file_response(pf, fmt, created=False)


# --- batches ----------------------------------------------------------------------------------------
@blp.route("/batches")
@blp.arguments(schemas.BatchListArgs, location="query")
@blp.response(200, schemas.BatchListSchema)
@require_roles(*READ)
def list_batches(args: dict[str, Any]) -> Any:
    """Payout batches (one per approval batch) with counts per state."""
    session = get_session()
    items, total = services.list_batches(session, actor(), **args)
    counts = services.state_counts(session, [b.id for b in items])
    return {"items": [schemas.present_batch(b, counts[b.id]) for b in items], "total": total}


@blp.route("/batches/<int:batch_id>")
@blp.response(200, schemas.BatchDetailSchema)
@require_roles(*READ)
@errors_as_http
def get_batch(batch_id: int) -> Any:
    """A batch with its lines (full account numbers only for the owning finance/head and central office)."""
    session = get_session()
    batch = services.get_batch(session, batch_id, actor())
    lines = services.batch_lines(session, batch.id)
    masked = not full_accounts(batch.district_code)
    body = schemas.present_batch(batch, services.state_counts(session, [batch.id])[batch.id])
    body["lines"] = schemas.present_lines(lines, services.current_refs(session, lines), masked=masked)
    body["files"] = [schemas.present_file(**f) for f in services.batch_files(session, batch.id)]
    return {**body, "alerts": services.open_alerts(session, batch.id), "accounts_masked": masked}


@blp.route("/batches/<int:batch_id>/review")
@blp.response(200, schemas.ReviewSchema)
@require_roles(*READ)
@errors_as_http
def review_batch(batch_id: int) -> Any:
    """The final review list before settling: every line with its state, and the totals."""
    session = get_session()
    batch = services.get_batch(session, batch_id, actor())
    lines = services.batch_lines(session, batch.id)
    masked = not full_accounts(batch.district_code)
    presented = schemas.present_lines(lines, services.current_refs(session, lines), masked=masked)
    summary = services.review_summary(lines)
    return {
        "batch_id": batch.id,
        "title": batch.title,
        "status": batch.status,
        "lines": presented,
        **summary,
    } | {"accounts_masked": masked}


@blp.route("/batches/<int:batch_id>/settle", methods=["POST"])
@idempotent()
@blp.response(200, schemas.BatchSummarySchema)
@require_roles(*ACT)
@errors_as_http
def settle_batch(batch_id: int) -> Any:
    """Close the batch when every line is paid or closed (บันทึกการจ่ายสำเร็จทั้งหมด); 409 otherwise."""
    session = get_session()
    with session.begin():
        batch = services.settle_batch(session, batch_id=batch_id, actor=actor())
    return schemas.present_batch(batch, services.state_counts(session, [batch.id])[batch.id])


# --- files ------------------------------------------------------------------------------------------
@blp.route("/batches/<int:batch_id>/files")
@blp.response(200, schemas.FileSchema(many=True))
@require_roles(*READ)
@errors_as_http
def list_files(batch_id: int) -> Any:
    """The KTB files made for a batch, with unresolved lines and download counts."""
    session = get_session()
    batch = services.get_batch(session, batch_id, actor())
    return [schemas.present_file(**f) for f in services.batch_files(session, batch.id)]


@blp.route("/batches/<int:batch_id>/files/<any(ktb,other):group>.<any(txt,xlsx):fmt>")
@idempotent(store_body=False, replay=replay_download)
@blp.arguments(schemas.DownloadArgs, location="query")
@blp.response(200, description="The KTB iPay text file (cp874) or the Excel register")
@require_roles(*ACT)
@errors_as_http
def download_group_file(args: dict[str, Any], batch_id: int, group: str, fmt: str) -> Any:
    """The file for the outstanding lines of a group (KTB payees / other banks); recorded."""
    session = write_session()
    with session.begin():
        pf, created = services.get_or_make_file(
            session, batch_id=batch_id, group=group, actor=actor(), settings=settings(), **args
        )
        services.record_download(session, pf, fmt=fmt, actor=actor(), created=created)
    return file_response(pf, fmt, created=created)


@blp.route("/files/<int:file_id>.<any(txt,xlsx):fmt>")
@blp.response(200, description="A file made earlier, again")
@require_roles(*ACT)
@errors_as_http
def download_file(file_id: int, fmt: str) -> Any:
    """Download a file made earlier (the same bytes); recorded."""
    session = write_session()
    with session.begin():
        pf = services.get_file(session, file_id, actor())
        services.record_download(session, pf, fmt=fmt, actor=actor(), created=False)
    return file_response(pf, fmt, created=False)


@blp.route("/files/<int:file_id>/cancel", methods=["POST"])
@idempotent()
@blp.arguments(schemas.ReasonSchema)
@blp.response(200, schemas.FileSchema)
@require_roles(*ACT)
@errors_as_http
def cancel_file(args: dict[str, Any], file_id: int) -> Any:
    """Cancel a file the bank never processed; its lines go into the next file with new ref2s."""
    session = get_session()
    with session.begin():
        pf = services.cancel_file(session, file_id=file_id, reason=args["reason"], actor=actor())
    return schemas.present_file(pf, unresolved=0, downloads=0)


# --- lines ------------------------------------------------------------------------------------------
@blp.route("/lines/<int:line_id>/bank", methods=["PATCH"])
@idempotent()
@blp.arguments(schemas.BankCorrectionSchema)
@blp.response(200, schemas.LineSchema)
@require_roles(*ACT)
@errors_as_http
def correct_bank(args: dict[str, Any], line_id: int) -> Any:
    """Correct a failed (or not yet sent) payee's bank details; the next file uses them."""
    session = get_session()
    with session.begin():
        line = services.correct_bank_details(session, line_id=line_id, actor=actor(), **args)
    return schemas.present_line(line, None, masked=False)


@blp.route("/lines/<int:line_id>/close-failed", methods=["POST"])
@idempotent()
@blp.arguments(schemas.ReasonSchema)
@blp.response(200, schemas.LineSchema)
@require_roles(*ACT)
@errors_as_http
def close_failed(args: dict[str, Any], line_id: int) -> Any:
    """Close the payee as not paid (จ่ายไม่สำเร็จ) with a reason; the citizen must apply again."""
    session = get_session()
    with session.begin():
        line = services.close_failed(session, line_id=line_id, reason=args["reason"], actor=actor())
    return schemas.present_line(line, None, masked=True)


@blp.route("/lines/<int:line_id>/resolve", methods=["POST"])
@idempotent()
@blp.arguments(schemas.ResolveSchema)
@blp.response(200, schemas.LineSchema)
@require_roles(*ACT)
@errors_as_http
def resolve_line(args: dict[str, Any], line_id: int) -> Any:
    """Decide a line in review (paid or failed) after checking with the bank."""
    session = get_session()
    with session.begin():
        line = services.resolve_review(session, line_id=line_id, actor=actor(), **args)
    return schemas.present_line(line, None, masked=True)


# --- result imports ---------------------------------------------------------------------------------
@blp.route("/batches/<int:batch_id>/results", methods=["POST"])
@idempotent()
@blp.arguments(schemas.UploadSchema, location="files")
@blp.response(202, schemas.ImportAcceptedSchema)
@blp.alt_response(413, description="File too large (or an xlsx that would decompress too far)")
@blp.alt_response(415, description="Not an xlsx, csv or txt result report")
@require_roles(*ACT)
@errors_as_http
def upload_results(files: dict[str, Any], batch_id: int) -> Any:
    """Upload the bank's result report; the payment worker imports it (202 + job)."""
    upload = files["file"]
    data = upload.stream.read(settings().limits.max_bytes + 1)
    session = get_session()
    with session.begin():
        who = actor()
        job = new_job(
            session, kind="payment.result_import", district_code=who.district_code, created_by=who.username
        )
        imp = services.request_result_import(
            session,
            batch_id=batch_id,
            filename=upload.filename,
            data=data,
            actor=who,
            job=job,
            settings=settings(),
        )
    return {"job_id": job.id, "import_id": imp.id, "status": imp.status, "duplicate_of": imp.duplicate_of}


@blp.route("/batches/<int:batch_id>/result-imports")
@blp.response(200, schemas.ImportListSchema)
@require_roles(*READ)
@errors_as_http
def list_imports(batch_id: int) -> Any:
    """The result imports of a batch, newest first."""
    session = get_session()
    batch = services.get_batch(session, batch_id, actor())
    items = services.list_imports(session, batch.id)
    return {"items": items, "total": len(items)}


@blp.route("/result-imports/<int:import_id>")
@blp.response(200, schemas.ImportSchema)
@require_roles(*READ)
@errors_as_http
def get_import(import_id: int) -> Any:
    """What an import did: counts, unmatched lines, lines not in the report, reconciliation, errors."""
    return services.get_import(get_session(), import_id, actor())


# --- alerts -----------------------------------------------------------------------------------------
@blp.route("/alerts")
@blp.arguments(schemas.AlertArgs, location="query")
@blp.response(200, schemas.AlertSchema(many=True))
@require_roles(*READ)
def list_alerts(args: dict[str, Any]) -> Any:
    """Alerts for finance (contradicting reports, duplicate cases), newest first."""
    return services.list_alerts(get_session(), actor(), open_only=args["open"], batch_id=args["batch_id"])


@blp.route("/alerts/<int:alert_id>/acknowledge", methods=["POST"])
@idempotent()
@blp.response(200, schemas.AlertSchema)
@require_roles(*ACT)
@errors_as_http
def acknowledge_alert(alert_id: int) -> PaymentAlert:
    """Mark an alert as handled."""
    session = get_session()
    with session.begin():
        return services.acknowledge_alert(session, alert_id=alert_id, actor=actor())
