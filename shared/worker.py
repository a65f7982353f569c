"""Worker wiring shared by every service: platform consumers and the heartbeat."""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Any

from celery import Celery, signals
from flask import Flask

from shared.celery import check_timeouts
from shared.db import utcnow
from shared.inbox import on_probe, register_consumer
from shared.logging import configure_logging
from shared.models import WorkerHeartbeat
from shared.web import ServiceContext

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 5


def init_worker(app: Flask) -> Celery:
    """Register the platform consumers on a service's Celery app and return it."""
    context: ServiceContext = app.extensions["ecase"]
    celery_app = context.celery
    problems = check_timeouts(celery_app)
    if problems:
        raise RuntimeError("; ".join(problems))
    if context.name in ("intake", "approval", "payment", "reporting"):
        register_consumer(
            celery_app,
            queue=context.name,
            event_type="ops.probe",
            handler=on_probe,
            sessions=lambda: context.sessions,
        )
    _install_heartbeat(context)

    @signals.setup_logging.connect(weak=False)
    def _json_logs(**_: Any) -> None:
        # Celery's own lines too: JSON, with IDs and account numbers masked (S9, D1).
        configure_logging(f"{context.name}-worker")

    @signals.worker_process_init.connect(weak=False)
    def _fresh_pool(**_: Any) -> None:
        # A forked pool child must not share the parent's database connections.
        context.engine.dispose(close=False)

    return celery_app


def _install_heartbeat(context: ServiceContext) -> None:
    stop = threading.Event()

    def beat() -> None:
        hostname = f"{context.name}@{socket.gethostname()}:{os.getpid()}"
        started = utcnow()
        while not stop.is_set():
            try:
                with context.sessions.begin() as session:
                    row = session.get(WorkerHeartbeat, hostname)
                    if row is None:
                        session.add(
                            WorkerHeartbeat(
                                hostname=hostname,
                                pid=os.getpid(),
                                queue=context.name,
                                started_at=started,
                                seen_at=utcnow(),
                            )
                        )
                    else:
                        row.seen_at = utcnow()
            except Exception as exc:  # a heartbeat must never take the worker down
                log.warning("heartbeat failed: %s", exc)
            stop.wait(HEARTBEAT_SECONDS)

    @signals.worker_ready.connect(weak=False)
    def _start(**_: Any) -> None:
        threading.Thread(target=beat, name="ecase-heartbeat", daemon=True).start()

    @signals.worker_shutdown.connect(weak=False)
    def _stop(**_: Any) -> None:
        stop.set()
