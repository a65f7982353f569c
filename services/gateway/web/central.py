"""Pages: Central office
(สำนักพัฒนาสังคม): users and roles, districts, welfare catalogue, programmes, budgets, summaries.
"""

from __future__ import annotations

from flask import Blueprint

from services.gateway.web.views import require_login

bp = Blueprint("central", __name__, url_prefix="/central", template_folder="templates")
bp.before_request(require_login)

#: (endpoint, Thai label, roles that see it); see views.MENU.
MENU: list[tuple[str, str, tuple[str, ...] | None]] = []
