"""Bearer tokens the gateway no longer forwards: the user's token generation (reliability S2).

Tokens are signed JWTs that every service verifies on its own, so a token stays valid until it
expires unless someone who knows the user refuses it.  The gateway owns the users, and every
request from outside comes through it, so it is that someone:

- ``users.token_generation`` is bumped (:func:`revoke_tokens`) when the central office disables
  a user, resets their password or changes their role or scope, and when users change their own
  password.  Tokens carry the generation they were issued at (the ``gen`` claim).
- Before forwarding ``/api/<service>/...`` (and before its own endpoints that need a token) the
  gateway compares the token's generation with the user's current one; a stale token, or any
  token of a disabled user, gets 401 ``revoked_token``.
- The verdict per ``Authorization`` value is kept in a per-process dict for
  ``ECASE_TOKEN_CHECK_SECONDS`` (default 5): a warm request costs one dict look-up, a cold one
  verifies the signature and reads one row.  The bound is that TTL: a request that reaches the
  gateway more than ``ECASE_TOKEN_CHECK_SECONDS`` after the change was committed is refused, in
  every gateway process.

Deliberate choices, documented in docs/api.md:

- A token without the ``gen`` claim (issued before the claim existed) reads as generation 0,
  which is where every user starts: it keeps working until the user's first revoking change.
- A token the gateway cannot verify, or one that has expired, is forwarded as before: the
  service answers its own 401 (``invalid_token``, ``expired_token``), and public service
  endpoints keep working.  Such verdicts are not cached, so junk cannot crowd out real ones.
- A validly signed token naming a user the gateway does not have was not issued by its login
  (tests and benchmarks sign tokens with the shared secret): there is nothing to revoke, so it is
  forwarded.  Whoever holds the secret can sign any token and call the services anyway.
- If the gateway's database cannot be read on a cold check, the request fails with 503
  ``unavailable`` (never forwarded unchecked).
- Web pages call the services directly with their session's token; their sessions already end
  at once (``web/sessions.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import Flask, g, request
from sqlalchemy import select, update

from services.gateway.models import User
from shared import auth
from shared.config import env_float
from shared.web import ApiError, ctx

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

#: Seconds a verdict is reused: the bound on how long a revoked token still gets through.
DEFAULT_CHECK_SECONDS = 5.0
#: Verdicts kept per process; past this the dict starts afresh (one cold check per live token).
MAX_VERDICTS = 10_000

#: ``(token_generation, active)`` of a username, or None when there is no such user.
Lookup = Callable[[str], tuple[int, bool] | None]


def revoke_tokens(db: Session, user: User) -> None:
    """Make every bearer token issued to ``user`` so far stale (the gateway refuses it)."""
    # Incremented in SQL, so that two changes at once cannot both write the same new value.
    db.execute(
        update(User)
        .where(User.id == user.id)
        .values(token_generation=User.token_generation + 1)
        .execution_options(synchronize_session="fetch")
    )


def revoked() -> ApiError:
    """The 401 for a token whose user was disabled or changed after it was issued."""
    error = auth.AuthError("revoked_token")
    return ApiError(401, error.message, code=error.code)


class TokenCheck:
    """Whether a bearer token's generation is still its user's, remembered ``ttl`` seconds per token."""

    def __init__(
        self,
        lookup: Lookup,
        *,
        secret: str,
        ttl: float = DEFAULT_CHECK_SECONDS,
        max_entries: int = MAX_VERDICTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lookup = lookup
        self.secret = secret
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        #: ``Authorization`` value → (monotonic deadline, refused?)
        self.verdicts: dict[str, tuple[float, bool]] = {}

    def check(self, authorization: str) -> None:
        """Raise 401 ``revoked_token`` for a stale token; anything else is for the service to judge."""
        hit = self.verdicts.get(authorization)
        if hit is not None and hit[0] > self.clock():
            if hit[1]:
                raise revoked()
            return
        started = self.clock()  # the verdict reflects the database as read after this moment
        refused = self.is_revoked(authorization)
        if refused is None:
            return
        if self.ttl > 0:
            if len(self.verdicts) >= self.max_entries:
                self.verdicts.clear()
            self.verdicts[authorization] = (started + self.ttl, refused)
        if refused:
            raise revoked()

    def is_revoked(self, authorization: str) -> bool | None:
        """True if the token is stale, False if it is current, None if it is not the gateway's to judge."""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer":
            return None
        try:
            principal = auth.verify_token(token.strip(), secret=self.secret)
        except auth.AuthError:
            return None  # missing, malformed, forged or expired: the service answers
        current = self.lookup(principal.username)
        if current is None:
            return False  # not a user of this gateway: see the module docstring
        generation, active = current
        return not active or principal.token_generation != generation


def _read_user(username: str) -> tuple[int, bool] | None:
    """The user's generation and whether they are active, in a short session of its own."""
    with ctx().read_sessions() as db:
        row = db.execute(select(User.token_generation, User.active).where(User.username == username)).first()
    return None if row is None else (row.token_generation, row.active)


def init_app(app: Flask) -> TokenCheck:
    """Check bearer tokens before forwarding them (after the shared ``_authenticate``)."""
    ttl = app.config.get("TOKEN_CHECK_SECONDS")
    if ttl is None:
        ttl = env_float("TOKEN_CHECK_SECONDS", DEFAULT_CHECK_SECONDS, service="gateway")
    checker = TokenCheck(_read_user, secret=app.extensions["ecase"].secret, ttl=float(ttl))
    app.extensions["ecase_token_check"] = checker

    def check_bearer_token() -> None:
        authorization = request.headers.get("Authorization")
        endpoint = request.endpoint
        if authorization is None or endpoint is None:
            return
        # Forwarded requests, and the gateway's own endpoints that took a token (``g.principal``);
        # public ones (login, health, the public check) answer whatever header comes along.
        if endpoint.startswith("forward_") or "principal" in g:
            checker.check(authorization)

    app.before_request(check_bearer_token)
    return checker
