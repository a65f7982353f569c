"""Reporting's HTTP endpoints."""

from __future__ import annotations

from shared.web import Blueprint

blp = Blueprint("reporting", __name__, url_prefix="/api/reporting", description="Reporting")
