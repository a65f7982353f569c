"""Payment's HTTP endpoints."""

from __future__ import annotations

from shared.web import Blueprint

blp = Blueprint("payment", __name__, url_prefix="/api/payment", description="Payment")
