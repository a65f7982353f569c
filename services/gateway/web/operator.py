"""Pages: Operator: queue depths, workers, recent failures, dead letters with replay, a link to Flower.

The page reads each stage service's ``/api/<svc>/ops/status`` and ``/api/<svc>/ops/dead-letters``
as the logged-in user (``operator``, or ``central_admin`` read-only); only the operator replays,
and the service checks that again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from services.gateway.api import STAGES
from services.gateway.web.client import api
from services.gateway.web.views import require_login, require_page_roles
from shared.config import env
from shared.thai import format_be_date

bp = Blueprint("operator", __name__, url_prefix="/operator", template_folder="templates")
bp.before_request(require_login)

VIEWERS = ("operator", "central_admin")
#: (endpoint, Thai label, roles that see it); see views.MENU.
MENU: list[tuple[str, str, tuple[str, ...] | None]] = [
    ("operator.index", "ระบบปฏิบัติการ", VIEWERS),
]

BANGKOK = dt.timezone(dt.timedelta(hours=7), "Asia/Bangkok")
DEFAULT_FLOWER_URL = "http://127.0.0.1:5555"
SERVICE_NAMES = {"intake": "รับเรื่อง", "approval": "อนุมัติ", "payment": "จ่ายเงิน", "reporting": "รายงาน"}
REPLAYED_SHOWN = 20  # replayed dead letters kept on the page (parked ones are all shown)


@bp.before_request
def _operators_only() -> None:
    """Only the operator and the central office (read-only) see these pages."""
    require_page_roles(*VIEWERS)


def be_moment(value: str | None) -> str:
    """``dd/mm/yyyy HH:MM:SS น.`` (Buddhist era, Bangkok time) of an API timestamp; "" when empty."""
    if not value:
        return ""
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    moment = moment.astimezone(BANGKOK)
    return f"{format_be_date(moment)} {moment:%H:%M:%S} น."


def flower() -> dict[str, Any]:
    """Flower's address (``ECASE_FLOWER_URL``) and whether it was configured."""
    url = env("FLOWER_URL")
    return {"url": url or DEFAULT_FLOWER_URL, "configured": bool(url)}


def _service_state(service: str) -> dict[str, Any]:
    status = api("GET", f"/api/{service}/ops/status")
    letters = api("GET", f"/api/{service}/ops/dead-letters")
    state: dict[str, Any] = {"service": service, "name": SERVICE_NAMES[service]}
    if status.ok and isinstance(status.data, dict):
        state.update(status.data, reachable=True, error="")
    else:
        state.update(reachable=False, error=status.message, workers=[], recent_failures=[])
    state["dead_letters"] = letters.data if letters.ok and isinstance(letters.data, list) else []
    state["dead_letters_error"] = "" if letters.ok else letters.message
    state["alive"] = sum(1 for w in state.get("workers", []) if w.get("alive"))
    return state


@bp.route("/")
def index() -> ResponseReturnValue:
    """ระบบปฏิบัติการ: every stage's queue, workers, outbox, failures and dead letters."""
    services = [_service_state(s) for s in STAGES]
    parked = [d for s in services for d in s["dead_letters"] if d.get("status") == "parked"]
    replayed = sorted(
        (d for s in services for d in s["dead_letters"] if d.get("status") != "parked"),
        key=lambda d: d.get("replayed_at") or "",
        reverse=True,
    )[:REPLAYED_SHOWN]
    failures = sorted(
        ({**f, "service": s["service"]} for s in services for f in s.get("recent_failures", [])),
        key=lambda f: f.get("last_at") or "",
        reverse=True,
    )
    return render_template(
        "operator/index.html",
        services=services,
        parked=sorted(parked, key=lambda d: d.get("created_at") or "", reverse=True),
        replayed=replayed,
        failures=failures,
        flower=flower(),
        can_replay=g.user.role == "operator",
        as_of=be_moment(dt.datetime.now(dt.UTC).isoformat()),
        be_moment=be_moment,
        service_names=SERVICE_NAMES,
    )


@bp.route("/dead-letters/<dead_letter_id>/replay", methods=["POST"])
def replay(dead_letter_id: str) -> ResponseReturnValue:
    """Send a parked message again (operator only; the form asks for confirmation first)."""
    require_page_roles("operator")
    service, _, number = dead_letter_id.partition("-")
    if service not in STAGES or not (number.isascii() and number.isdigit()):
        abort(404)
    r = api("POST", f"/api/{service}/ops/dead-letters/{number}/replay")
    if r.ok:
        flash(f"ส่งข้อความ {dead_letter_id} ({r.data.get('event_type', '')}) ใหม่แล้ว", "ok")
    else:
        flash(f"ส่งข้อความ {dead_letter_id} ใหม่ไม่สำเร็จ: {r.message}", "error")
    return redirect(url_for("operator.index"), 303)
