"""The outbox relay: sends committed outbox rows to the broker and stamps them.

``publish`` (shared.messaging) writes rows in the business transaction, so a rolled-back
change sends nothing and a committed one is sent at least once, whatever crashes meanwhile.
On PostgreSQL several relays may run (rows are claimed with ``FOR UPDATE SKIP LOCKED``); on
SQLite exactly one runs, guarded by an exclusive lock file.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from pathlib import Path
from typing import IO

from celery import Celery
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shared.config import MessagingSettings, data_dir
from shared.db import is_sqlite, utcnow
from shared.inbox import batch_task_name
from shared.messaging import task_name
from shared.models import OutboxMessage

log = logging.getLogger(__name__)


def _messages(rows: list[OutboxMessage], per_message: int) -> list[tuple[str, list[OutboxMessage]]]:
    """Group rows into broker messages: several events to one queue travel together."""
    groups: dict[str, list[OutboxMessage]] = {}
    singles: list[tuple[str, list[OutboxMessage]]] = []
    for row in rows:
        if row.task_name != task_name(row.destination, row.event_type) or per_message <= 1:
            singles.append((row.destination, [row]))  # a replay aimed at one consumer task
        else:
            groups.setdefault(row.destination, []).append(row)
    out = list(singles)
    for destination, group in groups.items():
        out.extend((destination, group[i : i + per_message]) for i in range(0, len(group), per_message))
    return out


class RelayAlreadyRunning(RuntimeError):
    """Raised when a second relay starts against a SQLite database."""


class Relay:
    """Moves outbox rows of one service database to the broker."""

    def __init__(
        self,
        service: str,
        sessions: sessionmaker[Session],
        celery_app: Celery,
        settings: MessagingSettings | None = None,
    ) -> None:
        self.service = service
        self.sessions = sessions
        self.celery = celery_app
        self.settings = settings or MessagingSettings()
        self._lock_file: IO[str] | None = None
        self.sent_total = 0

    # --- single relay on SQLite --------------------------------------------------------------
    def acquire(self) -> None:
        """On SQLite, take the exclusive relay lock or raise RelayAlreadyRunning."""
        if not is_sqlite(self.sessions.kw["bind"]):
            return
        path = Path(data_dir()) / f"relay-{self.service}.lock"
        handle = open(path, "w")  # noqa: SIM115 - held open for the relay's lifetime
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise RelayAlreadyRunning(
                f"another outbox relay for {self.service} is running (SQLite allows exactly one)"
            ) from None
        handle.write(str(os.getpid()))
        handle.flush()
        self._lock_file = handle

    def release(self) -> None:
        """Give up the relay lock."""
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    # --- sending ------------------------------------------------------------------------------
    def run_once(self) -> int:
        """Send one batch of unsent rows; return how many were sent."""
        sent = 0
        with self.sessions.begin() as session:
            stmt = (
                select(OutboxMessage)
                .where(OutboxMessage.published_at.is_(None))
                .order_by(OutboxMessage.id)
                .limit(self.settings.relay_batch)
            )
            if not is_sqlite(session):
                stmt = stmt.with_for_update(skip_locked=True)
            rows = session.scalars(stmt).all()
            if not rows:
                return 0
            try:
                with self.celery.producer_or_acquire() as producer:
                    for destination, group in _messages(rows, self.settings.relay_message_events):
                        for row in group:
                            row.send_attempts += 1
                        if len(group) == 1:
                            name, kwargs = group[0].task_name, {"event": group[0].body}
                        else:
                            name, kwargs = batch_task_name(destination), {"events_": [r.body for r in group]}
                        self.celery.send_task(
                            name,
                            kwargs=kwargs,
                            queue=destination,
                            producer=producer,
                            retry=True,
                            retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
                        )
                        stamp = utcnow()
                        for row in group:
                            row.published_at = stamp
                        sent += len(group)
            except Exception as exc:  # broker down: keep what was stamped, retry the rest later
                log.warning("outbox relay for %s could not send: %s", self.service, exc)
                for row in rows:
                    if row.published_at is None:
                        row.last_error = str(exc)[:2000]
        self.sent_total += sent
        return sent

    def run_forever(self, stop: threading.Event) -> None:
        """Relay until ``stop`` is set, polling every ``relay_interval`` seconds when idle."""
        self.acquire()
        log.info("outbox relay for %s started", self.service)
        try:
            while not stop.is_set():
                try:
                    sent = self.run_once()
                except Exception:  # database briefly unreachable: log and keep going (R11)
                    log.exception("outbox relay for %s failed a round", self.service)
                    sent = 0
                if sent == 0:
                    stop.wait(self.settings.relay_interval)
        finally:
            self.release()
            log.info("outbox relay for %s stopped after %d messages", self.service, self.sent_total)
