"""Payment's consumers (thin: parse, open a transaction, call a service function).

Each is an idempotent inbox consumer (``shared.inbox``): the handler runs in the same
transaction as the inbox row, so a redelivered message — after a crash, a SIGKILL or a
duplicate publication — changes nothing the first delivery already committed.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from celery import Celery
from flask import Flask

from services.payment import services
from services.payment.config import PaymentSettings
from shared.inbox import CURRENT_ATTEMPT, register_consumer
from shared.web import ServiceContext

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from shared.events import Event


def register(app: Flask, celery_app: Celery) -> None:
    """Register payment's event consumers."""
    context: ServiceContext = app.extensions["ecase"]
    settings: PaymentSettings = app.extensions["payment_settings"]

    def on_batch_approved(session: Session, event: Event) -> None:
        """Build the payout batch of a newly approved batch."""
        services.open_payout_batch(session, event)

    def on_case_updated(session: Session, event: Event) -> None:
        """Follow intake's corrected bank details of a case that is still to be paid."""
        services.follow_case_update(session, event)

    def on_result_import_requested(session: Session, event: Event) -> None:
        """Import an uploaded bank result report: parse, check, match and post in one transaction."""
        services.run_result_import(session, import_id=event.payload["import_id"], settings=settings)
        if settings.import_pause_ms and CURRENT_ATTEMPT.get() == 1:
            # Test-only fault (ECASE_ALLOW_FAULTS=1): hold the first attempt's transaction open so
            # a test can SIGKILL the worker mid-import and check that nothing half-applied remains.
            time.sleep(settings.import_pause_ms / 1000)

    for event_type, handler in (
        ("batch.approved", on_batch_approved),
        ("case.updated", on_case_updated),
        ("payment.result_import_requested", on_result_import_requested),
    ):
        register_consumer(
            celery_app,
            queue="payment",
            event_type=event_type,
            handler=handler,
            sessions=lambda: context.sessions,
        )
