"""Payment's consumers through their registered Celery tasks, in process: redelivery changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from services.payment import tasks
from services.payment.models import PayoutBatch, PayoutLine
from shared import messaging
from shared.audit import AuditEntry
from shared.models import OutboxMessage, ProcessedMessage
from tests.payment import factories
from tests.payment.conftest import PaymentEnv

pytestmark = [pytest.mark.integration]


@pytest.fixture(scope="module")
def deliver(env: PaymentEnv) -> Callable[[dict[str, Any]], str]:
    """Deliver an envelope to payment's consumer task, as the worker would."""
    celery_app = env.app.extensions["ecase"].celery
    tasks.register(env.app, celery_app)

    def run(envelope: dict[str, Any]) -> str:
        task = celery_app.tasks[messaging.task_name("payment", envelope["event_type"])]
        return str(task(event=envelope))

    return run


def count_batches(env: PaymentEnv, approval_batch_id: str) -> int:
    with env.sessions() as s:
        return int(
            s.scalar(
                select(func.count())
                .select_from(PayoutBatch)
                .where(PayoutBatch.approval_batch_id == approval_batch_id)
            )
        )


def test_batch_approved_delivered_three_times_builds_one_batch(
    env: PaymentEnv, deliver: Callable[..., str]
) -> None:
    envelope = factories.batch_approved(factories.spec_cases())
    assert [deliver(envelope) for _ in range(3)] == ["applied", "duplicate", "duplicate"]
    approval_id = envelope["payload"]["batch_id"]
    assert count_batches(env, approval_id) == 1
    with env.sessions() as s:
        row = s.get(ProcessedMessage, (envelope["event_id"], "payment.on_batch_approved"))
        assert row is not None
        assert row.duplicates == 2
    # the same approval batch published again under a new event id: still one payout batch
    again = factories.batch_approved(envelope["payload"]["cases"], batch_id=approval_id)
    assert deliver(again) == "applied"
    assert count_batches(env, approval_id) == 1


def test_case_updated_moves_bank_details_of_an_unpaid_line_only_forward(
    env: PaymentEnv, deliver: Callable[..., str]
) -> None:
    case = factories.case(bank_code="004", account_no="1112223334")
    batch_id = env.approve([case])
    now = dt.datetime.now(dt.UTC)
    new_bank = {
        "bank_code": "014",
        "branch_code": None,
        "account_name": "นายใหม่ บัญชี",
        "account_no": "5556667778",
    }
    assert deliver(factories.case_updated(case, new_bank, occurred_at=now)) == "applied"
    echo = factories.case_updated(case, new_bank, occurred_at=now + dt.timedelta(seconds=1))
    assert deliver(echo) == "applied"  # intake echoing the same details: no change, no audit entry
    stale = {**new_bank, "account_no": "9990001112"}
    assert (
        deliver(factories.case_updated(case, stale, occurred_at=now - dt.timedelta(minutes=5))) == "applied"
    )
    line = env.batch(batch_id)["lines"][0]
    assert (line["bank_code"], line["account_no"], line["account_name"]) == (
        "014",
        "5556667778",
        "นายใหม่ บัญชี",
    )
    with env.sessions() as s:
        entries = s.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "payout_line.bank_followed", AuditEntry.object_id == str(line["id"])
            )
        ).all()
        assert len(entries) == 1
        assert entries[0].after["account_no"] == "xxxxxx7778"


def test_case_updated_does_not_touch_a_paid_line(env: PaymentEnv, deliver: Callable[..., str]) -> None:
    case = factories.case(bank_code="004", account_no="1112223334")
    batch_id = env.approve([case])
    env.download(batch_id, "other.txt")
    line = env.batch(batch_id)["lines"][0]
    r = env.upload(
        batch_id,
        factories.result_csv(
            [
                {
                    "ref2": line["ref2"],
                    "bank_code": "004",
                    "account_no": "1112223334",
                    "amount": "3000.00",
                    "status": "SUCCESS",
                }
            ]
        ),
    )
    env.run_imports()
    assert env.get_import(r.json["import_id"])["paid"] == 1
    new_bank = {"bank_code": "014", "branch_code": None, "account_name": "x", "account_no": "5556667778"}
    deliver(
        factories.case_updated(case, new_bank, occurred_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5))
    )
    assert env.batch(batch_id)["lines"][0]["account_no"] == "1112223334"


def test_import_request_redelivered_posts_once(env: PaymentEnv, deliver: Callable[..., str]) -> None:
    batch_id = env.approve(factories.spec_cases())
    env.download(batch_id, "other.txt")
    lines = env.batch(batch_id)["lines"]
    report = factories.result_csv(
        [
            {
                "ref2": lines[1]["ref2"],
                "bank_code": "004",
                "account_no": "1112223334",
                "amount": "1000.00",
                "status": "SUCCESS",
            },
            {
                "ref2": lines[2]["ref2"],
                "bank_code": "034",
                "account_no": "20012345678",
                "amount": "800.50",
                "status": "FAILED",
            },
        ]
    )
    r = env.upload(batch_id, report)
    import_id = r.json["import_id"]
    with env.sessions() as s:
        request = s.scalars(
            select(OutboxMessage).where(
                OutboxMessage.event_type == "payment.result_import_requested",
                OutboxMessage.destination == "payment",
            )
        ).all()
        envelope = next(m.body for m in request if m.body["payload"]["import_id"] == import_id)
    assert deliver(envelope) == "applied"
    assert deliver(envelope) == "duplicate"
    result = env.get_import(import_id)
    assert (result["status"], result["paid"], result["failed"]) == ("done", 1, 1)
    paid_events = [e for e in env.events("payout.paid") if e["case_id"] == lines[1]["case_id"]]
    assert len(paid_events) == 1
    with env.sessions() as s:
        paid = s.scalars(
            select(PayoutLine).where(PayoutLine.batch_id == batch_id, PayoutLine.state == "paid")
        ).all()
        assert [p.case_id for p in paid] == [lines[1]["case_id"]]
