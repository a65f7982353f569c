"""Server-side web sessions: the browser holds only a random id; logout and disabling a user
end the session at once (reliability.md S2).  Idle timeout 30 min, absolute limit 12 h."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.gateway.models import User, WebSession
from shared import auth
from shared.config import env_int
from shared.db import utcnow


def idle_limit() -> dt.timedelta:
    """Inactivity after which a session ends (``ECASE_SESSION_IDLE_MINUTES``, default 30)."""
    return dt.timedelta(minutes=env_int("SESSION_IDLE_MINUTES", 30))


def absolute_limit() -> dt.timedelta:
    """Age after which a session ends whatever happens (``ECASE_SESSION_MAX_HOURS``, default 12)."""
    return dt.timedelta(hours=env_int("SESSION_MAX_HOURS", 12))


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def _token(user: User, *, secret: str, ttl_seconds: int) -> str:
    token, _ = auth.issue_token(
        username=user.username,
        role=user.role,
        district_code=user.district_code,
        secret=secret,
        ttl_seconds=ttl_seconds,
        province_code=user.province_code,
        agency=user.agency,
        token_generation=user.token_generation,
    )
    return token


def start(db: Session, user: User, *, secret: str) -> str:
    """Create a session for ``user``; return the random id to keep in the cookie."""
    sid = secrets.token_urlsafe(32)  # 256 bits (ASVS 7.2.3 asks for at least 128)
    limit = absolute_limit()
    token = _token(user, secret=secret, ttl_seconds=int(limit.total_seconds()))
    now = utcnow()
    db.add(
        WebSession(
            id_hash=_hash(sid),
            user_id=user.id,
            access_token=token,
            created_at=now,
            last_seen_at=now,
            expires_at=now + limit,
            revoked=False,
        )
    )
    return sid


def load(db: Session, sid: str | None) -> tuple[WebSession, User] | None:
    """The live session and its user, or None (unknown, revoked, idle, expired, user disabled)."""
    if not sid:
        return None
    row = db.get(WebSession, _hash(sid))
    if row is None or row.revoked:
        return None
    now = utcnow()
    if now >= row.expires_at or now - row.last_seen_at > idle_limit():
        return None
    user = db.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return row, user


def touch(db: Session, sid: str) -> None:
    """Record activity (at most once a minute, to keep writes rare)."""
    now = utcnow()
    db.execute(
        update(WebSession)
        .where(WebSession.id_hash == _hash(sid), WebSession.last_seen_at < now - dt.timedelta(minutes=1))
        .values(last_seen_at=now)
    )


def remember(db: Session, sid: str, key: str, value: Any) -> None:
    """Keep ``value`` under ``key`` in the session's server-side page state (``None`` forgets it).

    For what a page needs on the next request but must not put in the cookie, which the browser
    keeps (a national ID).  It ends with the session.
    """
    row = db.get(WebSession, _hash(sid), with_for_update=True)
    if row is None:
        return
    state = dict(row.page_state or {})
    if value is None:
        state.pop(key, None)
    else:
        state[key] = value
    row.page_state = state or None


def recall(db: Session, sid: str | None, key: str) -> Any:
    """What :func:`remember` kept under ``key`` for this session, or None."""
    if not sid:
        return None
    state = db.scalar(select(WebSession.page_state).where(WebSession.id_hash == _hash(sid)))
    return state.get(key) if isinstance(state, dict) else None


def end(db: Session, sid: str) -> None:
    """Log out: the session cannot be used again, even with a copied cookie."""
    db.execute(update(WebSession).where(WebSession.id_hash == _hash(sid)).values(revoked=True))


def end_all_for(db: Session, user_id: int, *, keep: str | None = None) -> None:
    """End every session of a user (password changed, user disabled), except ``keep``."""
    stmt = update(WebSession).where(WebSession.user_id == user_id, WebSession.revoked.is_(False))
    if keep:
        stmt = stmt.where(WebSession.id_hash != _hash(keep))
    db.execute(stmt.values(revoked=True))


def renew_token(db: Session, sid: str, user: User, *, secret: str) -> None:
    """Give a kept session a token of the user's current generation, expiring with the session.

    After users change their own password their older tokens are refused (``tokens.py``); the
    session they changed it in goes on with a new one.
    """
    row = db.get(WebSession, _hash(sid))
    if row is None:
        return
    remaining = int((row.expires_at - utcnow()).total_seconds())
    if remaining > 0:
        row.access_token = _token(user, secret=secret, ttl_seconds=remaining)
