"""The pages' client for the JSON APIs: the same endpoints a program calls, with the user's token.

A page view calls ``api("GET", "/api/intake/cases", params=...)``; the request goes to the owning
service with the logged-in user's bearer token (so the service checks role and district itself)
and the answer comes back as an :class:`ApiResult`.  Errors keep the CONTRACT's shape, so a page
can show ``result.message`` and put ``result.field_errors`` beside the fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from flask import g, request

from services.gateway.api import STAGES, forwarder
from shared.config import service_url

UNAVAILABLE = "ระบบขัดข้องชั่วคราว ไม่สามารถติดต่อบริการ {service} ได้ กรุณาลองใหม่อีกครั้ง"


@dataclass
class ApiResult:
    """What a service answered: status, JSON body (or None) and, for errors, message and fields."""

    status: int
    data: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def error(self) -> dict[str, Any]:
        if isinstance(self.data, dict) and isinstance(self.data.get("error"), dict):
            return self.data["error"]  # type: ignore[no-any-return]
        return {}

    @property
    def message(self) -> str:
        """The Thai sentence to show (empty when the call succeeded)."""
        if self.ok:
            return ""
        return str(self.error.get("message") or f"เกิดข้อผิดพลาด (รหัส {self.status})")

    @property
    def code(self) -> str:
        return str(self.error.get("code") or "")

    @property
    def field_errors(self) -> dict[str, str]:
        """``{"bank.account_no": "…"}``: messages to show beside their fields."""
        fields_ = self.error.get("fields") or {}
        return {str(k): str(v) for k, v in fields_.items()} if isinstance(fields_, dict) else {}


def _split(path: str) -> tuple[str, str]:
    """``/api/intake/cases`` → (``intake``, ``/api/intake/cases``); only the four stages."""
    parts = path.split("/", 3)
    if len(parts) < 3 or parts[1] != "api" or parts[2] not in STAGES:
        raise ValueError(f"not a stage API path: {path}")
    return parts[2], path


def api(
    method: str,
    path: str,
    *,
    json: Any = None,
    params: Mapping[str, Any] | None = None,
    files: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
    timeout: float = 60.0,
    headers: Mapping[str, str] | None = None,
) -> ApiResult:
    """Call a stage service's API as the logged-in user (see the module docstring).

    ``headers`` adds request headers, e.g. ``{"Idempotency-Key": ...}`` from a form, so that a
    form sent twice (double click, back and resend) records once.
    """
    service, full = _split(path)
    web_user = g.get("web_user")
    headers = {
        **(headers or {}),
        "Accept": "application/json",
        "X-Forwarded-For": request.remote_addr or "",
    }
    if web_user is not None:
        headers["Authorization"] = f"Bearer {web_user[0].access_token}"
    if "X-Request-Id" in request.headers:
        headers["X-Request-Id"] = request.headers["X-Request-Id"]
    clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
    try:
        r = forwarder.session.request(
            method,
            f"{service_url(service)}{full}",
            params=clean,
            json=json,
            files=files,
            data=data,
            headers=headers,
            timeout=timeout,
            allow_redirects=False,
        )
    except requests.RequestException:
        message = UNAVAILABLE.format(service=service)
        return ApiResult(503, {"error": {"code": "service_unavailable", "message": message}})
    body: Any = None
    if "json" in r.headers.get("Content-Type", ""):
        try:
            body = r.json()
        except ValueError:
            body = None
    return ApiResult(r.status_code, body, dict(r.headers))


def page_params(*names: str) -> dict[str, str]:
    """The query-string filters a list page passes on to the API (empty ones dropped)."""
    return {n: request.args.get(n, "").strip() for n in names if request.args.get(n, "").strip()}
