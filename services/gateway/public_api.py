"""Public endpoints of the gateway (no login): the state welfare card self-check.

``GET /api/public/welfare-card/{national_id}`` answers only ``{participant, group,
registration_places}``, the same shape for an unknown ID and one whose check digit is wrong, and
429 when a client asks too often (Flask-Limiter, per client address; ``ECASE_PUBLIC_CHECK_LIMIT``,
default ``20 per minute; 200 per day``).  It forwards to intake's public-check endpoint with a key
derived from the services' shared secret; the generic ``/api/intake/...`` forwarding never passes
that header on, so the limit cannot be skipped through it.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import urllib3
from flask import Flask, Response, request

from services.gateway.api import forwarder, limiter
from shared.config import env, env_int, service_url
from shared.web import ApiError, Blueprint, ctx, public
from shared.welfare_card import PUBLIC_CHECK_HEADER, public_check_key

log = logging.getLogger(__name__)

public_blp = Blueprint(
    "public", __name__, url_prefix="/api/public", description="Public checks for citizens (no login)"
)
DEFAULT_LIMIT = "20 per minute; 200 per day"
IMPORT_PATH = "/api/intake/welfare-card/imports"
#: The measure's participants lists are far bigger than any other upload (intake's default limit).
DEFAULT_MAX_IMPORT_BYTES = 256 * 1024 * 1024 + 64 * 1024


def init_app(app: Flask) -> None:
    """Let the participants-list upload through the gateway's forwarding with its own size limit."""
    limit = env_int("WELFARE_CARD_MAX_IMPORT_BYTES", DEFAULT_MAX_IMPORT_BYTES)

    def import_size_limit() -> None:
        if request.method == "POST" and request.path.rstrip("/") == IMPORT_PATH:
            request.max_content_length = limit

    app.before_request(import_size_limit)


def public_check_limit() -> str:
    """Self-checks allowed per client and window (``ECASE_PUBLIC_CHECK_LIMIT``)."""
    return env("PUBLIC_CHECK_LIMIT", DEFAULT_LIMIT) or DEFAULT_LIMIT


def client_key() -> str:
    """One bucket per client address (the gateway is the edge; a proxy in front must set remote_addr)."""
    return f"public-check|{request.remote_addr or '-'}"


@public_blp.route("/welfare-card/<national_id>")
@public_blp.alt_response(400, description="Not 13 ASCII digits")
@public_blp.alt_response(429, description="Too many checks from this client")
@limiter.limit(public_check_limit, key_func=client_key)
@public
def welfare_card_check(national_id: str) -> Any:
    """Whether a 13-digit national ID is a participant, their group, their district's registration places."""
    if not (len(national_id) == 13 and national_id.isascii() and national_id.isdigit()):
        # Refused here, so that nothing but 13 digits ever reaches intake's path.
        message = "กรุณากรอกเลขประจำตัวประชาชน 13 หลัก (ตัวเลขอารบิก ไม่มีขีดหรือช่องว่าง)"
        raise ApiError(400, message, code="invalid_national_id", fields={"national_id": message})
    url = f"{service_url('intake')}/api/intake/welfare-card/public/{national_id}"
    try:
        upstream = forwarder.pool.request(
            "GET",
            url,
            headers={PUBLIC_CHECK_HEADER: public_check_key(ctx().secret), "Accept": "application/json"},
            redirect=False,
            retries=False,
            timeout=10.0,
        )
    except urllib3.exceptions.HTTPError:
        raise ApiError(
            503, "ระบบตรวจสอบสิทธิ์ไม่พร้อมให้บริการชั่วคราว กรุณาลองใหม่อีกครั้ง", code="service_unavailable"
        ) from None
    if upstream.status not in (200, 400):
        log.warning("intake answered the public check with %s", upstream.status)
        raise ApiError(503, "ระบบตรวจสอบสิทธิ์ไม่พร้อมให้บริการชั่วคราว กรุณาลองใหม่อีกครั้ง", code="service_unavailable")
    body = upstream.data
    json.loads(body)  # never pass on anything but JSON
    return Response(body, status=upstream.status, content_type="application/json")
