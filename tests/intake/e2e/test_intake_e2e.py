"""Intake through the gateway with real processes: record, documents, events in and out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from sqlalchemy import select

from services.gateway.demo import load_demo_users
from services.intake.reference import load_reference_data
from shared import events, messaging
from shared.db import utcnow
from shared.models import OutboxMessage
from shared.testing.system import System, wait_for
from tests.intake.support import PDF, case_body, national_id

pytestmark = [pytest.mark.e2e]


class Gateway:
    """An officer's session through the gateway."""

    def __init__(self, system: System, username: str) -> None:
        self.system = system
        self.http = requests.Session()
        r = self.http.post(
            system.url("gateway", "/api/auth/token"),
            json={"username": username, "password": "ecase-demo-2566"},
            timeout=10,
        )
        assert r.status_code == 200, r.text
        self.http.headers["Authorization"] = f"Bearer {r.json()['access_token']}"

    def __getattr__(self, method: str) -> Callable[..., requests.Response]:
        def call(path: str, **kw: Any) -> requests.Response:
            return self.http.request(method.upper(), self.system.url("gateway", path), timeout=15, **kw)

        return call


def send_to_intake(system: System, event_type: str, payload: dict[str, Any]) -> None:
    """Put an event of another stage on intake's queue, as that stage's relay would."""
    envelope = events.build(event_type, payload, producer="approval")
    system.celery().send_task(
        messaging.task_name("intake", event_type), kwargs={"event": envelope}, queue="intake"
    )


@pytest.mark.parametrize("backend", ["embedded", "postgres"])
def test_officer_records_a_case_and_intake_follows_the_agenda(
    backend: str, make_system: Callable[..., System]
) -> None:
    system = make_system(backend)
    system.migrate(("intake", "gateway"))
    with system.sessions("gateway", write=True).begin() as s:
        load_demo_users(s)
    with system.environment(), system.sessions("intake", write=True).begin() as s:
        load_reference_data(s)
    system.start("gateway", "intake", "intake-worker", "intake-relay")
    system.wait_healthy("gateway")
    system.wait_healthy("intake")
    system.wait_worker("intake")
    officer = Gateway(system, "officer.1008")

    nid = national_id()
    check = officer.get(f"/api/intake/citizens/{nid}/history")
    assert check.status_code == 200
    assert check.json()["cases"] == []
    created = officer.post("/api/intake/cases", json=case_body(national_id=nid))
    assert created.status_code == 201, created.text
    case = created.json()
    uploaded = officer.post(
        f"/api/intake/cases/{case['id']}/documents",
        data={"kind": "related"},
        files={"file": ("คำร้อง.pdf", PDF, "application/pdf")},
    )
    assert uploaded.status_code == 201, uploaded.text
    downloaded = officer.get(f"/api/intake/cases/{case['id']}/documents/related")
    assert downloaded.content == PDF
    assert downloaded.headers["Content-Disposition"].startswith("attachment")
    not_pdf = officer.post(
        f"/api/intake/cases/{case['id']}/documents",
        data={"kind": "financial"},
        files={"file": ("bank.pdf", b"MZ\x90\x00 an executable", "application/pdf")},
    )
    assert not_pdf.status_code == 415

    def sent(event_type: str) -> bool:
        with system.sessions("intake")() as s:
            rows = s.scalars(select(OutboxMessage).where(OutboxMessage.event_type == event_type)).all()
        return bool(rows) and all(r.published_at is not None for r in rows)

    wait_for(lambda: sent("case.registered"), timeout=30, what="case.registered relayed")

    ref = {"case_id": case["id"], "district_code": "1008", "at": utcnow().isoformat(), "by": "head.1008"}
    send_to_intake(system, "case.placed_on_agenda", ref)
    wait_for(
        lambda: officer.get(f"/api/intake/cases/{case['id']}").json()["status"] == "on_agenda",
        timeout=30,
        what="status on_agenda",
    )
    send_to_intake(
        system,
        "batch.lock_requested",
        {
            "batch_id": f"e2e-{case['id']}",
            "district_code": "1008",
            "fiscal_year": case["fiscal_year"],
            "items": [{"case_id": case["id"], "welfare_type_code": "MEDICAL", "amount": case["amount"]}],
        },
    )
    wait_for(lambda: officer.get(f"/api/intake/cases/{case['id']}").json()["locked"], timeout=30, what="lock")
    wait_for(lambda: sent("cases.locked"), timeout=30, what="cases.locked relayed")
    refused = officer.patch(f"/api/intake/cases/{case['id']}", json={"amount": "100.00"})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "case_locked"
    allowed = officer.patch(f"/api/intake/cases/{case['id']}", json={"phone": "0899999999"})
    assert allowed.status_code == 200
    history = officer.get(f"/api/intake/citizens/{nid}/history").json()
    assert [c["status"] for c in history["cases"]] == ["on_agenda"]
