"""Approval's HTTP endpoints."""

from __future__ import annotations

from shared.web import Blueprint

blp = Blueprint("approval", __name__, url_prefix="/api/approval", description="Approval")
