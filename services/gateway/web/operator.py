"""Pages: Operator: queue depths, workers, recent failures, dead letters with replay, a link to Flower."""

from __future__ import annotations

from flask import Blueprint

from services.gateway.web.views import require_login

bp = Blueprint("operator", __name__, url_prefix="/operator", template_folder="templates")
bp.before_request(require_login)

#: (endpoint, Thai label, roles that see it); see views.MENU.
MENU: list[tuple[str, str, tuple[str, ...] | None]] = []
