"""Pages: จ่ายเงินประชาชน (payment): payout batches, files, result uploads, corrections and settlement."""

from __future__ import annotations

from flask import Blueprint

from services.gateway.web.views import require_login

bp = Blueprint("payments", __name__, url_prefix="/payments", template_folder="templates")
bp.before_request(require_login)

#: (endpoint, Thai label, roles that see it); see views.MENU.
MENU: list[tuple[str, str, tuple[str, ...] | None]] = []
