"""Forwarding ``/api/<service>/...`` to the service that owns it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import requests
from flask import Response, request, stream_with_context
from requests.adapters import HTTPAdapter

from shared.config import service_url
from shared.web import ApiError

FORWARDED_REQUEST_HEADERS = (
    "Authorization",
    "Content-Type",
    "Accept",
    "Accept-Language",
    "Idempotency-Key",
    "X-Request-Id",
    "If-None-Match",
)
FORWARDED_RESPONSE_HEADERS = (
    "Content-Type",
    "Content-Disposition",
    "Cache-Control",
    "ETag",
    "Location",
    "Retry-After",
    "X-Request-Id",
    "Allow",
)
STREAM_CHUNK = 64 * 1024


class Forwarder:
    """A pooled HTTP client to the stage services."""

    def __init__(self, timeout: float = 120.0) -> None:
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=8, pool_maxsize=64, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.timeout = timeout

    def forward(self, service: str, path: str) -> Response:
        """Send the current request to ``service`` at ``path`` and stream the answer back."""
        headers = {h: request.headers[h] for h in FORWARDED_REQUEST_HEADERS if h in request.headers}
        headers["X-Forwarded-For"] = request.remote_addr or ""
        url = f"{service_url(service)}{path}"
        # Bodies are bounded by MAX_CONTENT_LENGTH, so reading them whole is safe and lets
        # requests send an exact Content-Length.
        body: Any = request.get_data(cache=False) or None
        try:
            upstream = self.session.request(
                request.method,
                url,
                params=request.args.to_dict(flat=False),
                data=body,
                headers=headers,
                stream=True,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException:
            raise ApiError(
                503, f"บริการ {service} ไม่พร้อมให้บริการชั่วคราว กรุณาลองใหม่อีกครั้ง", code="service_unavailable"
            ) from None

        def generate() -> Iterator[bytes]:
            try:
                yield from upstream.iter_content(STREAM_CHUNK)
            finally:
                upstream.close()

        response = Response(stream_with_context(generate()), status=upstream.status_code)
        for name in FORWARDED_RESPONSE_HEADERS:
            if name in upstream.headers:
                response.headers[name] = upstream.headers[name]
        return response

    def get_json(self, service: str, path: str, *, authorization: str | None) -> tuple[int, Any]:
        """A JSON GET to a service on behalf of the caller (aggregating endpoints)."""
        headers = {"Authorization": authorization} if authorization else {}
        try:
            r = self.session.get(f"{service_url(service)}{path}", headers=headers, timeout=10)
            return r.status_code, r.json()
        except (requests.RequestException, ValueError):
            return 503, None
