"""Pages: พิมพ์รายงานขออนุมัติเงิน (reporting): batches with the approval report, ทค.1 and K-corp 2."""

from __future__ import annotations

from flask import Blueprint

from services.gateway.web.views import require_login

bp = Blueprint("reports", __name__, url_prefix="/reports", template_folder="templates")
bp.before_request(require_login)

#: (endpoint, Thai label, roles that see it); see views.MENU.
MENU: list[tuple[str, str, tuple[str, ...] | None]] = []
