"""Reporting's consumers: every stage event reporting subscribes to, folded into its read tables.

Each handler (``services.HANDLERS``) runs inside ``shared.inbox.handle``: the event id is
recorded in ``processed_messages`` in the same transaction as the effect, so a redelivered
message changes nothing; an exception rolls everything back and the message is retried, then
parked.  The handlers are idempotent on their own too (upserts with event-time guards), which
is what lets ``services.rebuild`` replay the events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.reporting.services import HANDLERS
from services.reporting.welfare_card.services import HANDLERS as WELFARE_CARD_HANDLERS
from shared.inbox import register_consumer

if TYPE_CHECKING:
    from celery import Celery
    from flask import Flask

QUEUE = "reporting"


def register(app: Flask, celery_app: Celery) -> None:
    """Register reporting's event consumers (``reporting.on_<event>``)."""
    context = app.extensions["ecase"]
    for event_type, handler in (HANDLERS | WELFARE_CARD_HANDLERS).items():
        register_consumer(
            celery_app, queue=QUEUE, event_type=event_type, handler=handler, sessions=lambda: context.sessions
        )
