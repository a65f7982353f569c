"""Reporting's real worker builds its tables from events sent through the producers' outboxes."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable
from typing import Any

import pypdf
import pytest
from sqlalchemy import select

from services import reporting
from services.reporting.models import RptBatch, RptCase
from shared import auth, messaging
from shared.models import ProcessedMessage
from shared.testing.system import System, wait_for
from tests.reporting import factories as f

pytestmark = [pytest.mark.e2e]


def publish(system: System, producer: str, *envelopes: dict[str, Any]) -> None:
    """Publish the envelopes' events through ``producer``'s outbox, in one committed transaction."""
    with system.sessions(producer, write=True).begin() as session:
        for env in envelopes:
            messaging.publish(session, env["event_type"], env["payload"], producer=producer)


@pytest.mark.parametrize("backend", ["embedded", "postgres"])
def test_the_worker_folds_events_and_the_report_follows(
    backend: str, make_system: Callable[..., System]
) -> None:
    system = make_system(backend, extra_env={"ECASE_WORKER_CONCURRENCY": "1"})
    system.migrate(("intake", "approval", "payment", "reporting"))
    system.start("intake-relay", "approval-relay", "payment-relay", "reporting-worker")
    system.wait_worker("reporting")
    a = f.snapshot(title="เด็กชาย", first="ทดสอบ1", last="ทดสอบ1", welfare=f.KINDERGARTEN, amount="3000.00")
    b = f.snapshot(title="นาง", first="ทดสอบ2", last="ทดสอบ2", amount="5000.00")
    publish(system, "intake", f.registered(a), f.registered(b))
    publish(
        system,
        "approval",
        f.placed(a, f.at(1)),
        f.placed(b, f.at(1)),
        f.batch_approved("B-e2e", [(a, f.bank()), (b, f.bank("014", "5556667778"))], f.at(60)),
    )
    publish(system, "payment", f.paid(a, "B-e2e", f.at(120)))

    expected = {  # consumer -> events: the relays deliver in any order, so wait for all of them
        "reporting.on_case_registered": 2,
        "reporting.on_case_placed_on_agenda": 2,
        "reporting.on_batch_approved": 1,
        "reporting.on_payout_paid": 1,
    }

    def settled_in_reporting() -> bool:
        with system.sessions("reporting")() as s:
            consumed = Counter(s.scalars(select(ProcessedMessage.consumer)))
            case_a, case_b = s.get(RptCase, a["case_id"]), s.get(RptCase, b["case_id"])
            return (
                all(consumed[consumer] >= n for consumer, n in expected.items())
                and case_a is not None
                and case_b is not None
                and case_a.status == "paid"
                and case_b.status == "approved"
                and s.get(RptBatch, "B-e2e") is not None
            )

    wait_for(settled_in_reporting, timeout=90, interval=0.2, what="reporting's tables")

    with system.environment():
        app = reporting.create_app({"DATABASE_URL": system.database_url("reporting"), "TESTING": True})
    try:
        token = auth.issue_token(
            username="head.1008", role="head", district_code="1008", secret=system.env["ECASE_SECRET_KEY"]
        )[0]
        client = app.test_client()
        r = client.get(
            "/api/reporting/batches/B-e2e/approval-report.pdf", headers={"Authorization": f"Bearer {token}"}
        )
        assert r.status_code == 200
        text = pypdf.PdfReader(io.BytesIO(r.data)).pages[0].extract_text()
        assert "จำนวน 2 ราย เป็นเงิน 8,000.00 บาท" in text
        assert "เด็กชาย ทดสอบ1 ทดสอบ1" in text
        summary = client.get(
            "/api/reporting/summary?fiscal_year=2566", headers={"Authorization": f"Bearer {token}"}
        )
        assert summary.json["totals"]["paid_amount"] == "3000.00"
    finally:
        app.extensions["ecase"].engine.dispose()
