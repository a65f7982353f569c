"""Intake's consumers (thin: read the event, call a use case in the inbox's transaction)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery import Celery
from flask import Flask
from sqlalchemy.orm import Session

from services.intake import handlers
from services.intake.welfare_card.tasks import consumers as welfare_card_consumers
from shared.events import Event
from shared.inbox import register_consumer
from shared.web import ServiceContext

log = logging.getLogger(__name__)


def _status(kind: str) -> Callable[[Session, Event], None]:
    def handle(session: Session, event: Event) -> None:
        p = event.payload
        handlers.change_status(
            session,
            case_id=p["case_id"],
            kind=kind,
            at=p["at"],
            by=p["by"],
            actor=f"approval:{p['by']}",
            reason=p.get("reason"),
        )

    handle.__doc__ = f"Set the case's status after a {kind} event."
    return handle


def on_case_amended(session: Session, event: Event) -> None:
    """The committee changed the welfare type or amount."""
    p = event.payload
    handlers.amend_case(
        session,
        case_id=p["case_id"],
        welfare_type_code=p["welfare_type_code"],
        amount=p["amount"],
        at=p["at"],
        by=p["by"],
    )


def on_batch_lock_requested(session: Session, event: Event) -> None:
    """Lock all cases of a new approval batch, or refuse naming the cases."""
    p = event.payload
    handlers.lock_batch(session, batch_id=p["batch_id"], district_code=p["district_code"], items=p["items"])


def on_batch_approved(session: Session, event: Event) -> None:
    """The batch's cases are approved."""
    p = event.payload
    handlers.approve_batch(
        session,
        batch_id=p["batch_id"],
        case_ids=[c["case_id"] for c in p["cases"]],
        at=p["approved_at"],
        by=p["approved_by"],
    )


def on_payout_paid(session: Session, event: Event) -> None:
    """The bank paid the case's payee."""
    p = event.payload
    handlers.change_status(
        session,
        case_id=p["case_id"],
        kind="paid",
        at=p["paid_at"],
        by="payment",
        actor="payment",
        details={"amount": f"{p['amount']:.2f}", "ref2": p["ref2"], "batch_id": p["approval_batch_id"]},
    )


def on_payout_failed(session: Session, event: Event) -> None:
    """A transfer failed: the case is being paid again, or closed as payment_failed when final."""
    p = event.payload
    handlers.change_status(
        session,
        case_id=p["case_id"],
        kind="payment_failed" if p["final"] else "transfer_failed",
        at=p["at"],
        by="payment",
        actor="payment",
        reason=p["reason"],
    )


def on_payout_reversed(session: Session, event: Event) -> None:
    """The bank reversed the case's paid transfer: the money came back, bank details to be corrected."""
    p = event.payload
    handlers.change_status(
        session,
        case_id=p["case_id"],
        kind="reversed",
        at=p["at"],
        by="payment",
        actor="payment",
        reason=p["reason"],
        details={
            "amount": f"{p['amount']:.2f}",
            "ref2": p["ref2"],
            "batch_id": p["approval_batch_id"],
            "reason_code": p.get("reason_code"),
            "value_date": p.get("value_date"),
        },
    )


def on_bank_details_corrected(session: Session, event: Event) -> None:
    """Finance corrected the payee's bank details."""
    p = event.payload
    handlers.correct_bank_details(session, case_id=p["case_id"], bank=p["bank"], by=p["by"], at=p["at"])


def on_batch_settled(session: Session, event: Event) -> None:
    """Every payee of the batch is paid or closed; the payout events already set each status."""
    p = event.payload
    log.info(
        "approval batch %s settled (%s paid, %s closed)",
        p["approval_batch_id"],
        p["paid_count"],
        p["closed_count"],
    )


CONSUMERS: dict[str, Callable[[Session, Event], None]] = {
    "case.placed_on_agenda": _status("placed_on_agenda"),
    "case.deferred": _status("deferred"),
    "case.restored": _status("restored"),
    "case.disqualified": _status("disqualified"),
    "case.amended": on_case_amended,
    "batch.lock_requested": on_batch_lock_requested,
    "batch.approved": on_batch_approved,
    "payout.paid": on_payout_paid,
    "payout.failed": on_payout_failed,
    "payout.reversed": on_payout_reversed,
    "payout.bank_details_corrected": on_bank_details_corrected,
    "batch.settled": on_batch_settled,
}


def register(app: Flask, celery_app: Celery) -> None:
    """Register intake's event consumers."""
    context: ServiceContext = app.extensions["ecase"]
    for event_type, handler in {**CONSUMERS, **welfare_card_consumers(app)}.items():
        register_consumer(
            celery_app,
            queue="intake",
            event_type=event_type,
            handler=handler,
            sessions=lambda: context.sessions,
        )
