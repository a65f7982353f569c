"""The outbox relay: sends committed outbox rows to the broker and stamps them.

``publish`` (shared.messaging) writes rows in the business transaction, so a rolled-back
change sends nothing and a committed one is sent at least once, whatever crashes meanwhile.
On PostgreSQL several relays may run (rows are claimed with ``FOR UPDATE SKIP LOCKED``); on
SQLite exactly one runs, guarded by an exclusive lock file.

A sent row stays this outbox's responsibility until its consumer acknowledges it (applied,
duplicate or parked; ``shared.inbox.send_acks``), because a broker can lose what it was given:
Redis without persistence loses every queued message when it restarts, and with AOF the last
second.  So the relay also

* drains its acknowledgement queue (``messaging.ack_queue``) and stamps ``acked_at``;
* stamps every send with the broker's *epoch* (Redis ``run_id`` plus a marker key the relay
  keeps in Redis; a restart or a flush changes it) and, when the epoch changes, marks every
  unacknowledged row sent into an earlier epoch unsent again — the normal loop re-sends it;
* re-sends a row unacknowledged for ``ECASE_OUTBOX_RESEND_AFTER`` seconds once its queue is
  empty (a lost acknowledgement, a message acknowledged to the broker but never finished).

Re-sending is always safe: the consumer's inbox absorbs duplicates (reliability R1, R2, R10).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import secrets
import threading
import time
from pathlib import Path
from typing import IO, Any

import redis
from celery import Celery
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from shared.celery import queue_depth
from shared.config import MessagingSettings, data_dir
from shared.db import is_sqlite, utcnow
from shared.inbox import batch_task_name
from shared.messaging import OUTBOX_HEADER, ack_queue, task_name
from shared.models import OutboxMessage

log = logging.getLogger(__name__)

#: The epoch of a broker that keeps its messages on disk (the embedded filesystem transport).
DURABLE_EPOCH = "durable"
EPOCH_KEY = "ecase:broker-epoch"


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
        self.acked_total = 0
        self.resent_total = 0
        self.epoch: str | None = None
        self._redis: redis.Redis | None = None
        self._next_check = 0.0
        self._next_stale_check = 0.0
        self._last_failure_log: dict[str, float] = {}

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
                            headers={OUTBOX_HEADER: self.service},
                            retry=True,
                            retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
                        )
                        stamp = utcnow()
                        for row in group:
                            row.published_at = stamp
                            row.broker_epoch = self.epoch
                        sent += len(group)
            except Exception as exc:  # broker down: keep what was stamped, retry the rest later
                log.warning("outbox relay for %s could not send: %s", self.service, exc)
                for row in rows:
                    if row.published_at is None:
                        row.last_error = str(exc)[:2000]
        self.sent_total += sent
        return sent

    # --- acknowledgements and lost messages ---------------------------------------------------
    def drain_acks(self, limit: int = 500) -> int:
        """Stamp ``acked_at`` on the rows consumers acknowledged; returns how many messages."""
        with self.celery.connection_or_acquire() as conn:
            queue = ack_queue(self.service)(conn.default_channel)
            messages = []
            while len(messages) < limit:
                message = queue.get(no_ack=False, accept=["json"])
                if message is None:
                    break
                messages.append(message)
            if not messages:
                return 0
            acked: dict[str, set[str]] = {}
            for message in messages:
                body: Any = message.payload
                if isinstance(body, dict) and isinstance(body.get("event_ids"), list):
                    acked.setdefault(str(body.get("queue")), set()).update(str(e) for e in body["event_ids"])
            try:
                with self.sessions.begin() as session:
                    now = utcnow()
                    for destination, event_ids in acked.items():
                        session.execute(
                            update(OutboxMessage)
                            .where(
                                OutboxMessage.destination == destination,
                                OutboxMessage.event_id.in_(sorted(event_ids)),
                                OutboxMessage.acked_at.is_(None),
                            )
                            .values(acked_at=now)
                        )
            except Exception:
                for message in messages:
                    message.requeue()
                raise
            for message in messages:
                message.ack()
        self.acked_total += len(messages)
        return len(messages)

    def broker_epoch(self) -> str:
        """Which memory of the broker messages go into now; it changes when Redis may have lost them.

        Redis: its ``run_id`` (new at every start) and a random marker this relay keeps in a key
        (gone after a flush or a restart without persistence).  The filesystem broker keeps
        messages on disk: always ``durable``.
        """
        url = str(self.celery.conf.broker_url or "")
        if not url.startswith(("redis://", "rediss://")):
            return DURABLE_EPOCH
        if self._redis is None:
            self._redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        prefix = str((self.celery.conf.broker_transport_options or {}).get("global_keyprefix") or "")
        key = prefix + EPOCH_KEY
        try:
            run_id = str(self._redis.info("server").get("run_id", ""))
        except redis.ResponseError:  # INFO not allowed for this user: the marker alone
            run_id = ""
        marker = self._redis.get(key)
        if marker is None:
            self._redis.set(key, secrets.token_hex(8), nx=True)
            marker = self._redis.get(key) or b""
        return f"{run_id}:{marker.decode()}"[:80]

    def check_broker(self) -> int:
        """When the broker's epoch changed, mark what it may have lost unsent; returns how many rows.

        Rows sent into another (or an unknown) epoch and not acknowledged are sent again: they
        may have been queued, in flight or waiting for a retry in the memory that is gone.  The
        first check of a relay does this too (it cannot know what happened while it was down).
        """
        epoch = self.broker_epoch()
        if epoch == self.epoch:
            return 0
        previous, self.epoch = self.epoch, epoch
        with self.sessions.begin() as session:
            count = session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.published_at.is_not(None),
                    OutboxMessage.acked_at.is_(None),
                    or_(OutboxMessage.broker_epoch.is_(None), OutboxMessage.broker_epoch != epoch),
                )
                .values(published_at=None, last_error="sent again: the broker restarted or was flushed")
            ).rowcount
        if count:
            log.warning(
                "outbox relay for %s: broker epoch %s -> %s; %d unacknowledged message(s) will be sent again",
                self.service,
                previous,
                epoch,
                count,
            )
        self.resent_total += count
        return int(count or 0)

    def resend_stale(self) -> int:
        """Mark unsent the rows unacknowledged for ``outbox_resend_after`` s whose queue is empty."""
        cutoff = utcnow() - dt.timedelta(seconds=self.settings.outbox_resend_after)
        stale = (
            OutboxMessage.published_at.is_not(None),
            OutboxMessage.published_at < cutoff,
            OutboxMessage.acked_at.is_(None),
        )
        with self.sessions.begin() as session:
            destinations = session.scalars(select(OutboxMessage.destination).where(*stale).distinct()).all()
            idle = [d for d in destinations if queue_depth(self.celery, d) == 0]
            if not idle:
                return 0
            count = session.execute(
                update(OutboxMessage)
                .where(*stale, OutboxMessage.destination.in_(idle))
                .values(published_at=None, last_error="sent again: not acknowledged in time")
            ).rowcount
        if count:
            log.warning("outbox relay for %s: %d unacknowledged message(s) to resend", self.service, count)
        self.resent_total += count
        return int(count or 0)

    def maintain(self) -> int:
        """The periodic checks (broker epoch every ``broker_check_interval`` s, stale rows rarely)."""
        now = time.monotonic()
        count = 0
        if now >= self._next_check:
            self._next_check = now + self.settings.broker_check_interval
            count += self.check_broker()
        if now >= self._next_stale_check:
            self._next_stale_check = now + min(60.0, self.settings.outbox_resend_after / 4)
            count += self.resend_stale()
        return count

    def _log_failure(self, step: str, exc: Exception) -> None:
        """Log a failed step with its traceback, at most every 10 s per step (an outage is long)."""
        now = time.monotonic()
        if now - self._last_failure_log.get(step, -60.0) >= 10:
            self._last_failure_log[step] = now
            log.error("outbox relay for %s failed a round (%s)", self.service, step, exc_info=exc)

    def run_forever(self, stop: threading.Event) -> None:
        """Relay until ``stop`` is set, polling every ``relay_interval`` seconds when idle."""
        self.acquire()
        log.info("outbox relay for %s started", self.service)
        try:
            while not stop.is_set():
                busy = 0
                for step in (self.maintain, self.drain_acks, self.run_once):
                    try:
                        busy += step()
                    except Exception as exc:  # database or broker briefly unreachable: keep going (R6, R11)
                        self._log_failure(step.__name__, exc)
                if busy == 0:
                    stop.wait(self.settings.relay_interval)
        finally:
            self.release()
            if self._redis is not None:
                self._redis.close()
            log.info(
                "outbox relay for %s stopped after %d messages (%d acknowledgements, %d sent again)",
                self.service,
                self.sent_total,
                self.acked_total,
                self.resent_total,
            )
