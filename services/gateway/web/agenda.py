"""Pages: จัดทำรายการขออนุมัติเงิน
(approval): the agenda, committee decisions, the meeting and closing into a batch.
"""

from __future__ import annotations

from flask import Blueprint

from services.gateway.web.views import require_login

bp = Blueprint("agenda", __name__, url_prefix="/agenda", template_folder="templates")
bp.before_request(require_login)

#: (endpoint, Thai label, roles that see it); see views.MENU.
MENU: list[tuple[str, str, tuple[str, ...] | None]] = []
