"""The gateway forwards the answer headers a caller needs: payment's file facts
(``X-Payment-File-*``) and ``Idempotent-Replayed``; it drops the rest of the upstream's headers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask

from services.gateway.proxy import Forwarder

pytestmark = [pytest.mark.integration]

UPSTREAM_HEADERS = {
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Disposition": 'attachment; filename="ktb-1008.txt"',
    "X-Payment-File-Id": "42",
    "X-Payment-File-Sha256": "ab" * 32,
    "X-Payment-File-Lines": "3",
    "X-Payment-File-Total": "8000.00",
    "X-Payment-File-Created": "0",
    "X-Payment-File-Effective-Date": "2026-11-23",
    "Idempotent-Replayed": "true",
    "X-Ecase-Placeholder-Config": "1",
    "X-Internal-Secret": "never forwarded",
    "Server": "upstream/1.0",
}


class _Upstream(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"line 1\nline 2\nline 3\n"
        self.send_response(200)
        for name, value in UPSTREAM_HEADERS.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:  # quiet
        return


@pytest.fixture
def upstream(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("ECASE_PAYMENT_URL", url)
    yield url
    server.shutdown()
    server.server_close()


def test_payment_file_facts_and_the_replay_flag_reach_the_caller(upstream: str) -> None:
    app = Flask(__name__)
    forwarder = Forwarder(timeout=10)

    @app.route("/api/payment/<path:rest>")
    def forward(rest: str) -> Any:
        return forwarder.forward("payment", f"/api/payment/{rest}")

    r = app.test_client().get("/api/payment/batches/1/files/txt")
    assert r.status_code == 200
    assert r.data == b"line 1\nline 2\nline 3\n"
    kept = [n for n in UPSTREAM_HEADERS if n.startswith(("X-Payment-File-", "X-Ecase-", "Idempotent-"))]
    assert len(kept) == 8
    for name in [*kept, "Content-Disposition"]:
        assert r.headers.get(name) == UPSTREAM_HEADERS[name], name
    assert "X-Internal-Secret" not in r.headers
    assert r.headers.get("Server") != "upstream/1.0"
