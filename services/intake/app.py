"""Intake's app factory."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge

from services.intake import domain
from services.intake.api import blp
from services.intake.storage import DocumentStore
from services.intake.welfare_card.api import blp as welfare_card_blp
from shared.config import data_dir, env, env_int
from shared.db import make_sessionmaker
from shared.web import ServiceContext, create_service_app, error_body

DEFAULT_MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
# Room for the multipart boundary and the form field around the file itself.
MULTIPART_OVERHEAD = 64 * 1024


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the intake service."""
    app = create_service_app(
        "intake",
        config,
        title="E-Case intake",
        blueprints=[blp, welfare_card_blp],
        description="Check a citizen's history; record cases, documents and home visits; the catalogue.",
    )
    _init_documents(app)
    _init_read_sessions(app)
    return app


def _init_read_sessions(app: Flask) -> None:
    """GET requests read in autocommit on PostgreSQL.

    Every read view runs one or a few independent SELECTs; without a transaction the history
    look-up (the hot path of the check before recording) saves the BEGIN and ROLLBACK round
    trips.  SQLite keeps its own read-only engine (shared.web).
    """
    context: ServiceContext = app.extensions["ecase"]
    if context.engine.dialect.name == "postgresql":
        context.read_sessions = make_sessionmaker(
            context.engine.execution_options(isolation_level="AUTOCOMMIT")
        )


def _init_documents(app: Flask) -> None:
    max_bytes = int(
        app.config.get("MAX_DOCUMENT_BYTES")
        or env_int("MAX_DOCUMENT_BYTES", DEFAULT_MAX_DOCUMENT_BYTES, service="intake")
    )
    app.config["MAX_DOCUMENT_BYTES"] = max_bytes
    # The request limit follows the document limit, so an oversized upload is refused by its
    # Content-Length before a byte of it is read.
    app.config["MAX_CONTENT_LENGTH"] = max_bytes + MULTIPART_OVERHEAD
    root = (
        app.config.get("DOCUMENTS_DIR") or env("DOCUMENTS_DIR", service="intake") or data_dir() / "documents"
    )
    app.extensions["intake_documents"] = DocumentStore(Path(root))

    def too_large(_exc: RequestEntityTooLarge) -> ResponseReturnValue:
        message = domain.too_large(max_bytes).message
        return jsonify(error_body(413, message, code="file_too_large", fields_={"file": message})), 413

    app.register_error_handler(RequestEntityTooLarge, too_large)
