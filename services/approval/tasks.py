"""Approval's consumers (thin: the event's payload to one service function, in the inbox's transaction).

Each handler runs inside ``shared.inbox.handle``: the event id is recorded in
``processed_messages`` in the same transaction as the effect, so a redelivered message changes
nothing; an exception rolls everything back and the message is retried, then parked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.approval import batches, services
from shared.inbox import register_consumer

if TYPE_CHECKING:
    from celery import Celery
    from flask import Flask
    from sqlalchemy.orm import Session

    from shared.events import Event

QUEUE = "approval"


def on_case_registered(session: Session, event: Event) -> None:
    """A district recorded a case: it goes on the district's current agenda."""
    services.place_on_agenda(session, snapshot=event.payload, occurred_at=event.occurred_at)


def on_case_updated(session: Session, event: Event) -> None:
    """An officer edited a case: refresh what the agenda shows (unless it is already approved)."""
    services.refresh_case(
        session, snapshot=event.payload, occurred_at=event.occurred_at, status=event.payload.get("status")
    )


def on_cases_locked(session: Session, event: Event) -> None:
    """Intake locked a batch's cases: the batch is approved and batch.approved published."""
    batches.complete_batch(session, batch_id=event.payload["batch_id"], cases=event.payload["cases"])


def on_cases_lock_refused(session: Session, event: Event) -> None:
    """Intake refused to lock a batch: the batch fails and its cases return to the agenda."""
    batches.fail_batch(session, batch_id=event.payload["batch_id"], refusals=event.payload["refusals"])


def on_batch_settled(session: Session, event: Event) -> None:
    """Payment settled every payee of a batch."""
    p = event.payload
    batches.settle_batch(
        session,
        approval_batch_id=p["approval_batch_id"],
        settled_at=p["settled_at"],
        settled_by=p["settled_by"],
    )


HANDLERS = {
    "case.registered": on_case_registered,
    "case.updated": on_case_updated,
    "cases.locked": on_cases_locked,
    "cases.lock_refused": on_cases_lock_refused,
    "batch.settled": on_batch_settled,
}


def register(app: Flask, celery_app: Celery) -> None:
    """Register approval's event consumers."""
    sessions = app.extensions["ecase"].sessions
    for event_type, handler in HANDLERS.items():
        register_consumer(
            celery_app, queue=QUEUE, event_type=event_type, handler=handler, sessions=lambda: sessions
        )
