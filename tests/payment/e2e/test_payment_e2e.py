"""Payment through real processes (payment web, worker and relay), on both backends.

batch.approved arrives through the broker (twice: redelivery), finance downloads the file and
uploads the bank's report over HTTP, and the real payment worker imports it.  The second test
SIGKILLs the worker's pool process in the middle of an import.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from services.payment.models import PaymentAlert, PayoutBatch, PayoutLine, ResultImport
from shared import messaging
from shared.models import MessageAttempt, OutboxMessage
from shared.testing.system import System, wait_for
from tests.payment import factories

pytestmark = [pytest.mark.e2e]
BACKENDS = ["embedded", "postgres"]
KTB = {
    "ECASE_PAYMENT_KTB_COMPANY_ID": "TESTCO0001",
    "ECASE_PAYMENT_KTB_DEBIT_ACCOUNT": "1234567890",
    "ECASE_PAYMENT_KTB_SENDER_NAME": "WELFARE FUND TEST",
    "ECASE_RETRY_BACKOFF_MAX": "1",
    "ECASE_WORKER_CONCURRENCY": "1",
}
IMPORT_CONSUMER = messaging.task_name("payment", "payment.result_import_requested")


def start(make_system: Callable[..., System], backend: str, **extra: str) -> System:
    system = make_system(backend, extra_env={**KTB, **extra})
    system.migrate(("payment",))
    system.start("payment", "payment-worker", "payment-relay")
    system.wait_healthy("payment")
    system.wait_worker("payment")
    return system


class Api:
    """Finance of district 1008 talking to the payment web process."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.headers = factories.token(system.env["ECASE_SECRET_KEY"])

    def get(self, path: str) -> requests.Response:
        return requests.get(
            self.system.url("payment", f"/api/payment{path}"), headers=self.headers, timeout=30
        )

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.post(
            self.system.url("payment", f"/api/payment{path}"), headers=self.headers, timeout=30, **kwargs
        )

    def upload(self, batch_id: int, data: bytes, name: str = "result.csv") -> dict[str, Any]:
        r = self.post(f"/batches/{batch_id}/results", files={"file": (name, data, "text/csv")})
        assert r.status_code == 202, r.text
        return dict(r.json())

    def finished(self, import_id: int, timeout: float = 60) -> dict[str, Any]:
        def done() -> dict[str, Any] | None:
            body = self.get(f"/result-imports/{import_id}").json()
            return body if body["status"] in ("done", "rejected") else None

        return wait_for(done, timeout=timeout, interval=0.2, what=f"import {import_id}")


def approve_through_the_broker(system: System, cases: list[dict[str, Any]], times: int = 1) -> int:
    """Send batch.approved to payment's queue (``times`` deliveries) and wait for the payout batch."""
    envelope = factories.batch_approved(cases)
    app = system.celery()
    for _ in range(times):
        app.send_task(
            messaging.task_name("payment", "batch.approved"), kwargs={"event": envelope}, queue="payment"
        )

    def built() -> int | None:
        with system.sessions("payment")() as s:
            return s.scalar(
                select(PayoutBatch.id).where(PayoutBatch.approval_batch_id == envelope["payload"]["batch_id"])
            )

    return wait_for(built, timeout=60, interval=0.1, what="the payout batch")


def report(lines: list[dict[str, Any]], statuses: list[str]) -> bytes:
    return factories.result_csv(
        [
            {
                "ref2": line["ref2"],
                "bank_code": line["bank_code"],
                "account_no": line["account_no"],
                "amount": line["amount"],
                "status": status,
            }
            for line, status in zip(lines, statuses, strict=True)
        ]
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_result_import_through_a_real_payment_worker(
    backend: str, make_system: Callable[..., System]
) -> None:
    system = start(make_system, backend)
    api = Api(system)
    batch_id = approve_through_the_broker(system, factories.spec_cases(), times=2)
    txt = api.get(f"/batches/{batch_id}/files/other.txt")
    assert txt.status_code == 200
    assert len(txt.content) == 1500
    lines = api.get(f"/batches/{batch_id}").json()["lines"]
    assert [line["state"] for line in lines] == ["pending", "sent", "sent"]

    first = api.upload(batch_id, report(lines[1:], ["SUCCESS", "FAILED"]))
    result = api.finished(first["import_id"])
    assert (result["status"], result["paid"], result["failed"]) == ("done", 1, 1)
    job = api.get(f"/jobs/{first['job_id']}").json()
    assert job["status"] == "done"
    assert [line["state"] for line in api.get(f"/batches/{batch_id}").json()["lines"]] == [
        "pending",
        "paid",
        "failed",
    ]

    duplicate = api.upload(batch_id, report(lines[1:], ["SUCCESS", "FAILED"]))
    assert duplicate["duplicate_of"] == first["import_id"]

    contradiction = api.upload(batch_id, report(lines[1:2], ["FAILED"]))
    result = api.finished(contradiction["import_id"])
    assert result["contradictions"] == 1
    with system.sessions("payment")() as s:
        assert s.scalar(select(func.count()).select_from(PayoutBatch)) == 1  # batch.approved twice: one batch
        alerts = s.scalars(select(PaymentAlert).where(PaymentAlert.batch_id == batch_id)).all()
        assert [a.kind for a in alerts] == ["contradiction"]
        paid = s.scalars(
            select(PayoutLine.state).where(PayoutLine.batch_id == batch_id).order_by(PayoutLine.id)
        ).all()
        assert paid == ["pending", "paid", "failed"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_worker_killed_in_the_middle_of_an_import(backend: str, make_system: Callable[..., System]) -> None:
    """reliability P7/R3: SIGKILL mid-import leaves nothing half-done; the redelivery applies it once."""
    system = start(make_system, backend, ECASE_PAYMENT_IMPORT_PAUSE_MS="30000")
    api = Api(system)
    cases = [factories.case(amount=f"{100 + i}.00") for i in range(40)]
    batch_id = approve_through_the_broker(system, cases)
    assert api.get(f"/batches/{batch_id}/files/other.txt").status_code == 200
    lines = api.get(f"/batches/{batch_id}").json()["lines"]
    upload = api.upload(batch_id, report(lines, ["SUCCESS"] * len(lines)))

    def attempts() -> int:
        with system.sessions("payment")() as s:
            return int(
                s.scalar(
                    select(func.max(MessageAttempt.attempts)).where(
                        MessageAttempt.consumer == IMPORT_CONSUMER
                    )
                )
                or 0
            )

    wait_for(lambda: attempts() == 1, timeout=60, interval=0.1, what="the import to start")
    # The first attempt has applied everything and waits before its commit: nothing is visible.
    with system.sessions("payment")() as s:
        assert s.get(ResultImport, upload["import_id"]).status == "queued"
        assert s.scalar(select(func.count()).select_from(PayoutLine).where(PayoutLine.state == "paid")) == 0
    children = system.children("payment-worker")
    assert children, "the worker has a pool process"
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

    result = api.finished(upload["import_id"], timeout=120)
    assert (result["status"], result["paid"], result["duplicates"]) == ("done", 40, 0)
    assert attempts() == 2
    with system.sessions("payment")() as s:
        states = s.scalars(
            select(PayoutLine.state).where(PayoutLine.batch_id == batch_id).order_by(PayoutLine.id)
        ).all()
        assert states == ["paid"] * 40
        paid_events = s.scalars(
            select(OutboxMessage.body).where(
                OutboxMessage.event_type == "payout.paid", OutboxMessage.destination == "intake"
            )
        ).all()
        case_ids = [body["payload"]["case_id"] for body in paid_events]
        assert sorted(case_ids) == sorted(c["case_id"] for c in cases)  # each case paid exactly once
