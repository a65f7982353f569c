"""Forwarding ``/api/<service>/...`` to the service that owns it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import requests
import urllib3
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
    "Idempotent-Replayed",  # a repeated Idempotency-Key: the stored answer, nothing ran again
)
#: Headers a service adds about what it answers, forwarded by prefix: payment's file downloads
#: (X-Payment-File-Id, -Sha256, -Lines, -Total, -Created, -Effective-Date) and E-Case's own
#: flags (X-Ecase-Placeholder-Config: the KTB company settings are still placeholders).
FORWARDED_RESPONSE_HEADER_PREFIXES = ("X-Payment-File-", "X-Ecase-")
_PREFIXES = tuple(p.lower() for p in FORWARDED_RESPONSE_HEADER_PREFIXES)
STREAM_CHUNK = 64 * 1024


class Forwarder:
    """A pooled HTTP client to the stage services."""

    def __init__(self, timeout: float = 120.0) -> None:
        self.session = requests.Session()
        # Internal calls never go through an HTTP proxy; without this, requests scans the whole
        # environment for proxy settings on every call (a fifth of the gateway's CPU per request).
        self.session.trust_env = False
        adapter = HTTPAdapter(pool_connections=8, pool_maxsize=64, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.timeout = timeout
        self.pool = urllib3.PoolManager(num_pools=8, maxsize=64, block=False)

    def forward(self, service: str, path: str) -> Response:
        """Send the current request to ``service`` at ``path`` and stream the answer back.

        urllib3 directly rather than requests: forwarding is the gateway's hot path, and the
        query string goes on byte for byte.
        """
        headers = {h: request.headers[h] for h in FORWARDED_REQUEST_HEADERS if h in request.headers}
        headers["X-Forwarded-For"] = request.remote_addr or ""
        url = f"{service_url(service)}{path}"
        if request.query_string:
            url = f"{url}?{request.query_string.decode('latin-1')}"
        # Bodies are bounded by MAX_CONTENT_LENGTH, so reading them whole is safe and lets
        # urllib3 send an exact Content-Length.
        body: Any = request.get_data(cache=False) or None
        try:
            upstream = self.pool.request(
                request.method,
                url,
                body=body,
                headers=headers,
                preload_content=False,
                redirect=False,
                retries=False,
                timeout=self.timeout,
            )
        except urllib3.exceptions.HTTPError:
            raise ApiError(
                503, f"บริการ {service} ไม่พร้อมให้บริการชั่วคราว กรุณาลองใหม่อีกครั้ง", code="service_unavailable"
            ) from None

        def generate() -> Iterator[bytes]:
            try:
                yield from upstream.stream(STREAM_CHUNK)
            finally:
                upstream.release_conn()

        response = Response(stream_with_context(generate()), status=upstream.status)
        for name in FORWARDED_RESPONSE_HEADERS:
            value = upstream.headers.get(name)
            if value is not None:
                response.headers[name] = value
        for name, value in upstream.headers.items():
            if name.lower().startswith(_PREFIXES):
                response.headers[name] = value
        return response

    def get_json(self, service: str, path: str, *, authorization: str | None) -> tuple[int, Any]:
        """A JSON GET to a service on behalf of the caller (aggregating endpoints)."""
        headers = {"Authorization": authorization} if authorization else {}
        try:
            r = self.session.get(f"{service_url(service)}{path}", headers=headers, timeout=10)
            return r.status_code, r.json()
        except (requests.RequestException, ValueError):
            return 503, None
