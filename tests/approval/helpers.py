"""Helpers of approval's tests: events as intake would send them, tokens, an intake stand-in."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import Flask, jsonify, request
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from services.approval import tasks
from services.approval.models import AgendaItem
from shared import auth, events, inbox
from shared.contracts import LockedCaseSnapshot
from shared.models import OutboxMessage

WELFARE = {
    "KINDERGARTEN": ("เงินสนับสนุนกิจกรรมทางการศึกษาระดับอนุบาล", "บัญชีที่ 1 ลำดับที่ 1", Decimal("3000.00")),
    "CAREER": ("ทุนประกอบอาชีพ", "บัญชีที่ 1 ลำดับที่ 3", Decimal("5000.00")),
    "MEDICAL": ("ค่าใช้จ่ายที่เกี่ยวเนื่องในการรักษาพยาบาล", None, Decimal("5000.00")),
}
_running = itertools.count(1)


def token(secret: str, role: str = "officer", district: str | None = "1008") -> str:
    """An access token as the gateway issues it."""
    return auth.issue_token(
        username=f"{role}.{district or 'city'}", role=role, district_code=district, secret=secret
    )[0]


def bearer(secret: str, role: str = "officer", district: str | None = "1008") -> dict[str, str]:
    """An Authorization header."""
    return {"Authorization": f"Bearer {token(secret, role, district)}"}


def case_snapshot(
    district: str = "1008",
    *,
    welfare_type_code: str = "KINDERGARTEN",
    amount: str = "3000.00",
    fiscal_year: int = 2566,
    **overrides: Any,
) -> dict[str, Any]:
    """A CaseSnapshot payload as intake publishes it in case.registered."""
    n = next(_running)
    name, ref, _ceiling = WELFARE[welfare_type_code]
    snap = {
        "case_id": str(uuid.uuid4()),
        "case_no": f"Case{fiscal_year}-{n}",
        "fiscal_year": fiscal_year,
        "district_code": district,
        "title": "นาง",
        "first_name": f"ทดสอบ{n}",
        "last_name": "ใจดี",
        "case_type": "general",
        "welfare_type_code": welfare_type_code,
        "welfare_type_name": name,
        "regulation_ref": ref,
        "amount": amount,
        "registered_at": dt.datetime.now(dt.UTC).isoformat(),
    }
    snap.update(overrides)
    return snap


def envelope(event_type: str, payload: Mapping[str, Any], producer: str = "intake") -> dict[str, Any]:
    """A validated event envelope."""
    return events.build(event_type, dict(payload), producer=producer)


def deliver(sessions: sessionmaker[Session], message: Mapping[str, Any]) -> bool:
    """Apply one event with approval's handler and the inbox, as the worker does; False if a duplicate."""
    event = events.parse(dict(message))
    handler = tasks.HANDLERS[event.event_type]
    consumer = f"approval.on_{event.event_type.replace('.', '_')}"
    with sessions.begin() as session:
        if not inbox.claim(session, event.event_id, consumer):
            return False
        handler(session, event)
    return True


def register(sessions: sessionmaker[Session], district: str = "1008", **kw: Any) -> dict[str, Any]:
    """Deliver a case.registered for a new case; returns its snapshot."""
    snap = case_snapshot(district, **kw)
    assert deliver(sessions, envelope("case.registered", snap))
    return snap


def outbox(
    sessions: sessionmaker[Session], event_type: str, destination: str | None = None
) -> list[dict[str, Any]]:
    """The envelopes approval published of one type (one per event, or per destination if given)."""
    with sessions() as s:
        stmt = select(OutboxMessage).where(OutboxMessage.event_type == event_type).order_by(OutboxMessage.id)
        rows = s.scalars(stmt).all()
    if destination is not None:
        return [r.body for r in rows if r.destination == destination]
    seen: dict[str, dict[str, Any]] = {}
    for r in rows:
        seen.setdefault(r.event_id, r.body)
    return list(seen.values())


def lock_answer(sessions: sessionmaker[Session], batch_id: str, *, bank_code: str = "006") -> dict[str, Any]:
    """cases.locked for a lock request, built as intake would (final snapshot with bank details)."""
    request_ = next(
        b for b in outbox(sessions, "batch.lock_requested") if b["payload"]["batch_id"] == batch_id
    )
    payload = request_["payload"]
    with sessions() as s:
        items = {
            i.case_id: i
            for i in s.scalars(
                select(AgendaItem).where(AgendaItem.case_id.in_([x["case_id"] for x in payload["items"]]))
            )
        }
    cases = []
    for n, wanted in enumerate(payload["items"]):
        item = items[wanted["case_id"]]
        cases.append(
            LockedCaseSnapshot().dump(
                {
                    "case_id": item.case_id,
                    "case_no": item.case_no,
                    "fiscal_year": item.fiscal_year,
                    "district_code": item.district_code,
                    "title": item.title,
                    "first_name": item.first_name,
                    "last_name": item.last_name,
                    "case_type": item.case_type,
                    "welfare_type_code": wanted["welfare_type_code"],
                    "welfare_type_name": item.welfare_type_name,
                    "regulation_ref": item.regulation_ref,
                    "amount": Decimal(wanted["amount"]),
                    "registered_at": item.registered_at,
                    "bank": {
                        "bank_code": bank_code,
                        "branch_code": None,
                        "account_name": f"{item.first_name} {item.last_name}",
                        "account_no": f"{1234567890 + n}",
                    },
                    "phone": "0812345678",
                    "email": None,
                }
            )
        )
    return envelope(
        "cases.locked", {"batch_id": batch_id, "district_code": payload["district_code"], "cases": cases}
    )


# --- an intake stand-in for the committee's amendment check ------------------------------------------
@dataclass
class FakeIntake:
    """A small intake answering check-amendment with catalogue ceilings (for in-process API tests)."""

    app: Flask
    calls: list[dict[str, Any]]


def fake_intake() -> FakeIntake:
    """Build the stand-in: ceilings of :data:`WELFARE`, 404 for case ids starting with "gone"."""
    app = Flask("fake-intake")
    calls: list[dict[str, Any]] = []

    @app.post("/api/intake/cases/<case_id>/check-amendment")
    def check(case_id: str) -> Any:
        body = request.get_json()
        calls.append({"case_id": case_id, "auth": request.headers.get("Authorization"), **body})
        if case_id.startswith("gone"):
            return jsonify({"error": {"code": "not_found", "message": "ไม่พบข้อมูลที่ต้องการ"}}), 404
        code = body["welfare_type_code"]
        if code not in WELFARE:
            message = f"ไม่พบประเภทเงินสงเคราะห์รหัส {code}"
            return jsonify(
                {
                    "error": {
                        "code": "unknown_welfare_type",
                        "message": message,
                        "fields": {"welfare_type_code": message},
                    }
                }
            ), 422
        ceiling = WELFARE[code][2]
        if Decimal(body["amount"]) > ceiling:
            message = f"จำนวนเงินเกินเพดานของ{WELFARE[code][0]} ({ceiling:,.2f} บาท)"
            return jsonify(
                {"error": {"code": "ceiling_exceeded", "message": message, "fields": {"amount": message}}}
            ), 422
        return jsonify({"ok": True})

    @app.get("/api/intake/welfare-types")
    def welfare_types() -> Any:
        return jsonify(
            [
                {"code": c, "name_th": n, "regulation_ref": r, "ceiling": str(x), "active": True}
                for c, (n, r, x) in WELFARE.items()
            ]
        )

    return FakeIntake(app, calls)


class WSGIAdapter(BaseAdapter):
    """A requests transport that answers from a Flask app in this process (no sockets)."""

    def __init__(self, app: Flask | None = None, *, fail: Callable[[], Exception] | None = None) -> None:
        super().__init__()
        self.app = app
        self.fail = fail

    def send(self, request_: requests.PreparedRequest, **_: Any) -> requests.Response:
        if self.fail is not None:
            raise self.fail()
        assert self.app is not None
        url = urlsplit(request_.url or "")
        path = url.path + (f"?{url.query}" if url.query else "")
        got = self.app.test_client().open(
            path, method=request_.method, headers=dict(request_.headers), data=request_.body
        )
        response = requests.Response()
        response.status_code = got.status_code
        response._content = got.data
        response.headers = CaseInsensitiveDict(dict(got.headers))
        response.url = request_.url or ""
        response.request = request_
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        return None
