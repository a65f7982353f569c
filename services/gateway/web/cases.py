"""Pages: บันทึกข้อมูลเคส / แสดงข้อมูลเคส
(intake): the national-ID check, the case form, search and a case's detail.
"""

from __future__ import annotations

from flask import Blueprint

from services.gateway.web.views import require_login

bp = Blueprint("cases", __name__, url_prefix="/cases", template_folder="templates")
bp.before_request(require_login)

#: (endpoint, Thai label, roles that see it); see views.MENU.
MENU: list[tuple[str, str, tuple[str, ...] | None]] = []
