"""Idempotent HTTP mutations with an ``Idempotency-Key`` header (reliability.md P2).

A client that may retry a request (a timeout, a double click, a lost answer) sends a UUID in
``Idempotency-Key``.  The key is scoped to the user: the stored row is keyed by
``(user, key)``, so two users can never see each other's answers.  For ``ttl`` (≥ 24 h) the
server then answers a repeat of the request as follows:

* same key, same request (method, path, query and body) → the first answer's status, body and
  headers are replayed (with ``Idempotent-Replayed: true``) and nothing runs again;
* same key, a different request (one byte changed) → **422** ``idempotency_key_reused``;
* same key while the first request is still running → **409** ``idempotency_in_progress``;
* a malformed key (not a UUID, or over 255 characters) → **400**; a missing key → **400** only
  on an endpoint declared ``required=True``; everywhere else a request without a key works as
  it always did.

How "no second effect" is held, following Brandur Leach's atomic phases:

1. **claim**: in its own short transaction, ``INSERT … ON CONFLICT DO NOTHING`` a ``running``
   row with a random claim token (on PostgreSQL a concurrent duplicate waits on the unique index
   and then sees the row; SQLite serialises writers).  Only the request that inserted the row
   (or took over an expired one) runs the view.
2. **effect**: the view runs in the request session (``shared.web.get_session``).  A
   ``before_commit`` hook on that session turns the row ``committed`` *in the same transaction*
   as the effect, guarded by the claim token.  If the row was taken over meanwhile (the claim
   outlived ``lock_timeout``), the guard fails and the whole effect rolls back: a key can never
   commit two effects.
3. **answer**: the response is stored (``done``).  A request whose view committed nothing
   (validation error, 403, 404, 409 …) releases its claim instead, so the same key can be
   retried — there was no first effect to protect.  A crash between 2 and 3 leaves a
   ``committed`` row without an answer: later repeats get 409 rather than a second effect.

Responses too large to keep (a payment file is ~50 MB) are stored without their body; the
endpoint then supplies ``replay=``, which rebuilds the same bytes from its own records.

Tables: ``idempotency_keys`` in each service database that uses this (created by
``shared.platform_migrations.upgrade_idempotency_keys`` from a service migration).  Expired
rows are deleted by later claims.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Response, current_app, g, request
from flask_smorest import Blueprint as SmorestBlueprint
from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    delete,
    event,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from shared.config import env_float
from shared.db import UTCDateTime, make_metadata, utcnow
from shared.web import ApiError, ctx, current_principal

__all__ = [
    "HEADER",
    "IdempotencyBase",
    "IdempotencyKey",
    "StoredResponse",
    "idempotent",
    "parse_key",
]

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
MIN_TTL_HOURS = 24  # reliability P2: keys are kept at least 24 h (Stripe's retention)
DEFAULT_LOCK_TIMEOUT_S = 600
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.ASCII | re.IGNORECASE)
# Headers of a stored answer worth replaying (others are recomputed by every response).
_KEPT_HEADERS = ("Content-Type", "Content-Disposition", "Location", "Retry-After")
_SKIPPED_X_HEADERS = frozenset({"x-content-type-options", "x-frame-options", "x-request-id"})
BigId = BigInteger().with_variant(Integer(), "sqlite")


class IdempotencyBase(DeclarativeBase):
    """Base of the idempotency table (its own metadata: only services that use it migrate it)."""

    metadata = make_metadata()


class IdempotencyKey(IdempotencyBase):
    """One client key of one user: the request's fingerprint and, once answered, the answer."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        CheckConstraint("status IN ('running', 'committed', 'done')", name="status"),
        Index("ix_idempotency_keys_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(150))
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    fingerprint: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(10))
    token: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    locked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    committed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    response_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_headers: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


@dataclass(frozen=True)
class StoredResponse:
    """A stored answer, as a ``replay=`` function of an endpoint receives it."""

    status: int
    headers: dict[str, str]
    body: bytes | None


def now() -> dt.datetime:
    """The clock of this module (tests freeze it by replacing this function)."""
    return utcnow()


# --- the key and the request's fingerprint ----------------------------------------------------
def _bad_key(message: str) -> ApiError:
    return ApiError(400, message, code="invalid_idempotency_key", fields={HEADER: message})


def parse_key(raw: str | None, *, required: bool = False) -> str | None:
    """The canonical (lower-case) key, None when absent; ApiError 400 when malformed or missing."""
    if raw is None or raw == "":
        if required:
            raise _bad_key(f"กรุณาส่งหัวข้อ {HEADER} (UUID) มากับคำขอนี้ เพื่อป้องกันการทำรายการซ้ำ")
        return None
    if len(raw) > MAX_KEY_LENGTH:
        raise _bad_key(f"{HEADER} ยาว {len(raw)} ตัวอักษร เกิน {MAX_KEY_LENGTH} ตัวอักษร")
    if _UUID.fullmatch(raw) is None:
        raise _bad_key(f"{HEADER} ต้องเป็น UUID เช่น 3f1c2b9e-8a4d-4c6e-9b1f-2d7a5e0c4b18")
    return raw.lower()


def fingerprint() -> str:
    """SHA-256 of the request: method, path, query string and body.

    A multipart body is hashed part by part (field names and values, file names and contents)
    rather than byte by byte, because its random boundary differs between two sends of the same
    form; any other body is hashed as sent, so one changed byte changes the fingerprint.
    """
    h = hashlib.sha256()
    for part in (request.method, request.path, request.query_string.decode("latin-1")):
        h.update(part.encode("utf-8", "surrogateescape"))
        h.update(b"\0")
    if request.mimetype == "multipart/form-data":
        for name, value in sorted(request.form.items(multi=True)):
            h.update(f"form\0{name}\0{value}\0".encode("utf-8", "surrogateescape"))
        for name, storage in sorted(request.files.items(multi=True), key=lambda item: item[0]):
            content = storage.stream.read()
            storage.stream.seek(0)
            h.update(f"file\0{name}\0{storage.filename}\0".encode("utf-8", "surrogateescape"))
            h.update(hashlib.sha256(content).digest())
    else:
        h.update(b"body\0")
        h.update(request.get_data(cache=True))
    return h.hexdigest()


# --- settings ------------------------------------------------------------------------------------
def _setting(name: str, default: float) -> float:
    """A number from the app config (``ECASE_<SERVICE>_<NAME>``), else ``ECASE_<NAME>``, else default."""
    value = current_app.config.get(name)
    if value is None:
        value = env_float(name, default)
    return float(value)


def _ttl() -> dt.timedelta:
    hours = _setting("IDEMPOTENCY_TTL_HOURS", MIN_TTL_HOURS)
    if hours < MIN_TTL_HOURS:
        log.warning(
            "IDEMPOTENCY_TTL_HOURS=%s is below %s h: keys are kept %s h", hours, MIN_TTL_HOURS, MIN_TTL_HOURS
        )
        hours = MIN_TTL_HOURS
    return dt.timedelta(hours=hours)


def _lock_timeout() -> dt.timedelta:
    return dt.timedelta(seconds=_setting("IDEMPOTENCY_LOCK_TIMEOUT_SECONDS", DEFAULT_LOCK_TIMEOUT_S))


# --- the three phases ------------------------------------------------------------------------------
@dataclass
class _Claim:
    row_id: int
    token: str
    marked: bool = False  # the ``committed`` marker is in the transaction being committed
    committed: bool = False  # ... and that commit succeeded


def _insert(session: Session, values: dict[str, Any]) -> int | None:
    """INSERT the row unless the (user, key) exists; the new row's id, or None."""
    table = IdempotencyKey.__table__
    dialect = session.get_bind().dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(table)
    elif dialect == "sqlite":
        stmt = sqlite.insert(table)
    else:  # pragma: no cover - the project runs on PostgreSQL and SQLite only
        raise RuntimeError(f"idempotency keys are not supported on {dialect}")
    # rowcount is not reliable with RETURNING (psycopg answers -1): ask for the id instead.
    stmt = stmt.values(**values).on_conflict_do_nothing(index_elements=["user_id", "key"])
    return cast("int | None", session.execute(stmt.returning(table.c.id)).scalar_one_or_none())


def _conflict(row: IdempotencyKey, print_: str) -> ApiError | StoredResponse:
    """What a repeat of an existing, unexpired key gets: an error, or the stored answer."""
    if row.fingerprint != print_:
        return ApiError(
            422,
            f"{HEADER} นี้ใช้กับคำขออื่นที่มีข้อมูลต่างกันไปแล้ว กรุณาสร้าง key ใหม่สำหรับคำขอใหม่",
            code="idempotency_key_reused",
        )
    if row.status != "done" or row.response_status is None:
        return ApiError(
            409,
            "คำขอเดียวกันนี้ (Idempotency-Key เดิม) กำลังดำเนินการอยู่ กรุณารอสักครู่แล้วตรวจสอบผลอีกครั้ง",
            code="idempotency_in_progress",
        )
    return StoredResponse(row.response_status, dict(row.response_headers or {}), row.response_body)


def _claim(user_id: str, key: str, print_: str) -> _Claim | ApiError | StoredResponse:
    """Own the key (a new claim), or learn what a repeat must answer."""
    for _ in range(5):
        at = now()
        token = secrets.token_hex(16)
        fresh = {
            "fingerprint": print_,
            "method": request.method,
            "path": request.path[:500],
            "status": "running",
            "token": token,
            "created_at": at,
            "locked_at": at,
            "expires_at": at + _ttl(),
            "committed_at": None,
            "response_status": None,
            "response_headers": None,
            "response_body": None,
        }
        with ctx().sessions.begin() as session:
            row_id = _insert(session, {"user_id": user_id, "key": key, **fresh})
            if row_id is not None:
                claim = _Claim(row_id, token)
                break
            row = session.scalars(
                select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
            ).first()
            if row is None:
                continue  # purged between the insert and the read: try again
            expired = row.expires_at <= at
            stale = row.status == "running" and row.locked_at <= at - _lock_timeout()
            if not expired and not (stale and row.fingerprint == print_):
                return _conflict(row, print_)
            # Take over an expired key, or a claim whose request died before committing anything.
            guard = (
                IdempotencyKey.expires_at <= at
                if expired
                else (IdempotencyKey.token == row.token) & (IdempotencyKey.status == "running")
            )
            taken = session.execute(
                update(IdempotencyKey)
                .where(IdempotencyKey.id == row.id, guard)
                .values(**fresh)
                .execution_options(synchronize_session=False)
            ).rowcount
            if taken == 1:
                if stale and not expired:
                    log.warning(
                        "idempotency key %s of %s taken over after its claim went stale", key, user_id
                    )
                claim = _Claim(row.id, token)
                break
    else:
        raise ApiError(409, "ระบบกำลังประมวลผลคำขอเดียวกันนี้ กรุณาลองใหม่อีกครั้ง", code="idempotency_in_progress")
    _purge_expired(at)
    return claim


def _purge_expired(at: dt.datetime) -> None:
    """Delete expired keys (best effort: an expired key left behind is simply taken over later)."""
    try:
        with ctx().sessions.begin() as session:
            session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at <= at))
    except DBAPIError as exc:  # e.g. two purges deadlocking on PostgreSQL: the next claim retries
        log.warning("idempotency keys not purged: %s", type(exc).__name__)


def _mark_committed(claim: _Claim) -> Callable[[Session], None]:
    """A before_commit hook: the effect and the ``committed`` marker commit together, or neither."""

    def hook(session: Session) -> None:
        if claim.marked:
            return
        done = session.execute(
            update(IdempotencyKey)
            .where(
                IdempotencyKey.id == claim.row_id,
                IdempotencyKey.token == claim.token,
                IdempotencyKey.status == "running",
            )
            .values(status="committed", committed_at=now())
            .execution_options(synchronize_session=False)
        ).rowcount
        if done != 1:
            # Another request took the key over (this one outlived the lock timeout): this
            # effect must not commit as well.
            raise ApiError(
                409,
                "คำขอนี้ใช้เวลานานเกินกำหนดและถูกยกเลิก ระบบไม่ได้บันทึกรายการ กรุณาตรวจสอบแล้วลองใหม่",
                code="idempotency_in_progress",
            )
        claim.marked = True

    return hook


def _commit_outcome(claim: _Claim) -> tuple[Callable[[Session], None], Callable[[Session], None]]:
    """after_commit / after_rollback hooks: a marker whose commit failed was never committed."""

    def committed(session: Session) -> None:
        if claim.marked:
            claim.committed = True

    def rolled_back(session: Session) -> None:
        if not claim.committed:
            claim.marked = False  # e.g. the connection died at COMMIT: mark again next time

    return committed, rolled_back


def _bookkeeping(what: str, claim: _Claim, statement: Any) -> None:
    """Run one statement on the key's row in its own transaction, tried three times.

    The failure being handled may be the database dropping its connections (reliability R11);
    a claim not released answers 409 to every retry until the lock timeout, an answer not stored
    409 until the key expires.  A failure after three tries is logged, never raised over the
    request's own outcome.
    """
    error: DBAPIError | None = None
    for attempt in range(3):
        try:
            with ctx().sessions.begin() as session:
                session.execute(statement.execution_options(synchronize_session=False))
            return
        except DBAPIError as exc:  # a fresh connection next time (pool_pre_ping)
            error = exc
            time.sleep(0.05 * (attempt + 1))
    log.warning("idempotency key row %s not %s: %s", claim.row_id, what, type(error).__name__)


def _release(claim: _Claim) -> None:
    """Give the key back after a request that committed nothing."""
    _bookkeeping(
        "released",
        claim,
        delete(IdempotencyKey).where(
            IdempotencyKey.id == claim.row_id,
            IdempotencyKey.token == claim.token,
            IdempotencyKey.status == "running",
        ),
    )


def _store(claim: _Claim, response: Response, *, store_body: bool) -> None:
    headers = {name: response.headers[name] for name in _KEPT_HEADERS if name in response.headers}
    for name, value in response.headers.items():
        if name.lower().startswith("x-") and name.lower() not in _SKIPPED_X_HEADERS:
            headers[name] = value
    body = response.get_data() if store_body else None
    _bookkeeping(
        "answered",
        claim,
        update(IdempotencyKey)
        .where(IdempotencyKey.id == claim.row_id, IdempotencyKey.token == claim.token)
        .values(
            status="done",
            response_status=response.status_code,
            response_headers=headers,
            response_body=body,
        ),
    )


def _replay(stored: StoredResponse, replay: Callable[[StoredResponse], Response] | None) -> Response:
    if stored.body is None and replay is not None:
        response = replay(stored)
        response.status_code = stored.status
    else:
        response = Response(stored.body or b"", status=stored.status)
    for name, value in stored.headers.items():
        response.headers[name] = value
    response.headers[REPLAYED_HEADER] = "true"
    return response


# --- the decorator ---------------------------------------------------------------------------------
def idempotent(
    *,
    required: bool = False,
    store_body: bool = True,
    replay: Callable[[StoredResponse], Response] | None = None,
) -> Callable[[F], F]:
    """Make a mutating endpoint honour ``Idempotency-Key`` (see the module docstring).

    Put it directly under ``@blp.route`` so that it sees the finished response.  The view must
    make its changes in the request session (``shared.web.get_session``); this decorator opens
    that session as a writing session, also for a GET that writes (payment's file downloads).
    ``store_body=False`` keeps only status and headers, and ``replay`` rebuilds the body.
    """
    if not store_body and replay is None:
        raise ValueError("an endpoint that does not store bodies must say how to replay them")

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            key = parse_key(request.headers.get(HEADER), required=required)
            if key is None:
                return view(*args, **kwargs)
            user_id = current_principal().username
            outcome = _claim(user_id, key, fingerprint())
            if isinstance(outcome, ApiError):
                raise outcome
            if isinstance(outcome, StoredResponse):
                return _replay(outcome, replay)
            claim = outcome
            if "db_session" not in g:
                g.db_session = ctx().sessions()
            event.listen(g.db_session, "before_commit", _mark_committed(claim))
            committed, rolled_back = _commit_outcome(claim)
            event.listen(g.db_session, "after_commit", committed)
            event.listen(g.db_session, "after_rollback", rolled_back)
            try:
                response = current_app.make_response(view(*args, **kwargs))
            except BaseException:
                if claim.committed:
                    log.error("request with idempotency key %s failed after its commit", key)
                    # The effect stands; a repeat gets 409 (no answer stored) rather than a rerun.
                else:
                    _release(claim)
                raise
            if claim.committed:
                _store(claim, response, store_body=store_body)
            else:
                _release(claim)  # nothing was committed: nothing to protect
            return response

        doc = SmorestBlueprint.doc(
            parameters=[
                {
                    "in": "header",
                    "name": HEADER,
                    "required": required,
                    "schema": {"type": "string", "format": "uuid", "maxLength": MAX_KEY_LENGTH},
                    "description": "A UUID; a repeat with the same key and request replays the first "
                    "answer (422 with another request, 409 while the first still runs).",
                }
            ]
        )
        return cast(F, doc(wrapper))

    return decorator
