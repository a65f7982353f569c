"""Payment's app factory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from services.payment.api import blp
from services.payment.config import load_settings
from shared.web import create_service_app


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the payment service (refuses to start with malformed KTB settings)."""
    app = create_service_app("payment", config, title="E-Case payment", blueprints=[blp])
    app.extensions["payment_settings"] = load_settings(app.config.get("PAYMENT_SETTINGS"))
    # Uploads above the result-file limit are refused by Flask before they are read (413).
    limit = app.extensions["payment_settings"].limits.max_bytes
    app.config["MAX_CONTENT_LENGTH"] = max(app.config.get("MAX_CONTENT_LENGTH") or 0, limit + 1024 * 1024)
    return app
