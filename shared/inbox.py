"""Idempotent consumers: the inbox, attempt counting and dead letters.

Each consumer task (``<queue>.on_<event>``):

1. raises the attempt counter of (event id, consumer) in its own committed transaction, so a
   SIGKILLed process still counts (reliability.md R4);
2. parks the message in ``dead_letters`` once it has been tried ``max_attempts`` times;
3. otherwise records the event id in ``processed_messages`` in the same transaction as the
   effect — a redelivered message finds the row and changes nothing (R2);
4. on an error, retries with capped, jittered backoff (R9), and parks after the last attempt;
5. once the event is applied, found to be a duplicate or parked, acknowledges it to the outbox
   that sent it (``send_acks``), so that outbox stops answering for it (see shared.outbox).
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from celery import Celery, Task
from celery.exceptions import SoftTimeLimitExceeded
from marshmallow import ValidationError as SchemaError
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from shared import events
from shared.config import MessagingSettings, env_bool
from shared.db import UTCDateTime, is_sqlite, utcnow
from shared.messaging import OUTBOX_HEADER, QUEUES, ack_queue, task_name
from shared.models import DeadLetter, MessageAttempt, OutboxMessage, ProbeReceipt, ProcessedMessage

log = logging.getLogger(__name__)

Handler = Callable[[Session, events.Event], None]

#: The delivery attempt (1-based) of the message being handled in this context.
CURRENT_ATTEMPT: ContextVar[int] = ContextVar("CURRENT_ATTEMPT", default=1)
#: Set when a handler was stopped by the task's soft time limit (see handle_batch).
_OUT_OF_TIME: ContextVar[bool] = ContextVar("_OUT_OF_TIME", default=False)


_PROCESSED = ProcessedMessage.__table__
_ATTEMPTS = MessageAttempt.__table__
_STATEMENTS: dict[str, dict[str, Any]] = {}


def _statements(session: Session) -> dict[str, Any]:
    """Core statements with bound parameters, built once per dialect (cheap to execute)."""
    dialect = "sqlite" if is_sqlite(session) else "postgresql"
    if dialect not in _STATEMENTS:
        insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
        key = (_PROCESSED.c.event_id == bindparam("e")) & (_PROCESSED.c.consumer == bindparam("c"))
        _STATEMENTS[dialect] = {
            "claim": insert(_PROCESSED)
            .values(
                event_id=bindparam("e"),
                consumer=bindparam("c"),
                processed_at=bindparam("now", type_=UTCDateTime()),
                duplicates=0,
            )
            .on_conflict_do_nothing()
            .returning(_PROCESSED.c.event_id),
            "absorb": _PROCESSED.update().where(key).values(duplicates=_PROCESSED.c.duplicates + 1),
            "attempt": insert(_ATTEMPTS)
            .values(
                event_id=bindparam("e"),
                consumer=bindparam("c"),
                attempts=1,
                first_at=bindparam("now", type_=UTCDateTime()),
                last_at=bindparam("now", type_=UTCDateTime()),
            )
            .on_conflict_do_update(
                index_elements=["event_id", "consumer"],
                set_={"attempts": _ATTEMPTS.c.attempts + 1, "last_at": bindparam("now", type_=UTCDateTime())},
            )
            .returning(_ATTEMPTS.c.attempts),
        }
    return _STATEMENTS[dialect]


def _params(event_id: str, consumer: str) -> dict[str, Any]:
    return {"e": event_id, "c": consumer, "now": utcnow()}


def claim(session: Session, event_id: str, consumer: str) -> bool:
    """Record that ``consumer`` applies ``event_id`` now; False if it already has."""
    stmt = _statements(session)["claim"]
    return session.execute(stmt, _params(event_id, consumer)).first() is not None


def begin_attempt(sessions: sessionmaker[Session], event_id: str, consumer: str) -> int | None:
    """Count a delivery before any work starts, in its own committed transaction.

    Returns the attempt number, or None when the inbox already holds the event (the
    redelivery is counted as an absorbed duplicate instead).
    """
    with sessions.begin() as session:
        stmts, params = _statements(session), _params(event_id, consumer)
        if session.execute(stmts["absorb"], params).rowcount == 1:
            return None
        return int(session.execute(stmts["attempt"], params).scalar_one())


def absorb_duplicate(sessions: sessionmaker[Session], event_id: str, consumer: str) -> None:
    """Count a redelivery that lost the race to apply an event."""
    with sessions.begin() as session:
        session.execute(_statements(session)["absorb"], _params(event_id, consumer))


def _record_error(sessions: sessionmaker[Session], event_id: str, consumer: str, error: str) -> None:
    with sessions.begin() as session:
        session.execute(
            update(MessageAttempt)
            .where(MessageAttempt.event_id == event_id, MessageAttempt.consumer == consumer)
            .values(last_error=error[:4000])
        )


def park(
    sessions: sessionmaker[Session],
    *,
    message: dict[str, Any],
    event_id: str,
    consumer: str,
    queue: str,
    attempts: int,
    error: str | None,
) -> None:
    """Put a message into dead letters (once per event and consumer)."""
    with sessions.begin() as session:
        if error is None:
            row = session.get(MessageAttempt, (event_id, consumer))
            error = row.last_error if row is not None else None
        existing = session.scalars(
            select(DeadLetter).where(DeadLetter.event_id == event_id, DeadLetter.consumer == consumer)
        ).first()
        if existing is not None:
            if existing.status == "parked":
                return  # a redelivery of a message parked already (its acknowledgement was lost)
            existing.status = "parked"
            existing.attempts = attempts
            existing.last_error = error or "process died while handling the message"
            return
        session.add(
            DeadLetter(
                event_id=event_id,
                event_type=str(message.get("event_type", "?"))[:80],
                consumer=consumer,
                queue=queue,
                body=message,
                attempts=attempts,
                last_error=error or "process died while handling the message",
            )
        )
    log.error("message %s parked in dead letters for %s after %d attempts", event_id, consumer, attempts)


def replay(session: Session, dead_letter_id: int, *, actor: str) -> DeadLetter | None:
    """Send a parked message again (through the outbox) with a fresh attempt budget."""
    row = session.get(DeadLetter, dead_letter_id)
    if row is None or row.status != "parked":
        return row
    session.execute(
        MessageAttempt.__table__.delete().where(
            MessageAttempt.event_id == row.event_id, MessageAttempt.consumer == row.consumer
        )
    )
    # The consumer's own outbox sends it again; if this service also produced the event, the
    # original outbox row is simply marked unsent.
    outbox = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.event_id == row.event_id, OutboxMessage.destination == row.queue
        )
    ).first()
    # (Acknowledged when parked: a replay makes it this outbox's responsibility again.)
    if outbox is None:
        session.add(
            OutboxMessage(
                event_id=row.event_id,
                event_type=row.event_type,
                destination=row.queue,
                task_name=row.consumer,
                body=row.body,
            )
        )
    else:
        outbox.published_at = None
        outbox.acked_at = None
    row.status = "replayed"
    row.replayed_at = utcnow()
    row.replayed_by = actor
    return row


def backoff_seconds(attempt: int, settings: MessagingSettings) -> float:
    """Exponential backoff with full jitter, capped below the visibility timeout (R5, R9)."""
    cap = min(settings.retry_backoff_max, settings.visibility_timeout // 2)
    return random.uniform(0, min(cap, 2**attempt))


class RetryLater(Exception):
    """The delivery failed and should be tried again after ``countdown`` seconds."""

    def __init__(self, countdown: float, exc: Exception) -> None:
        super().__init__(str(exc))
        self.countdown = countdown
        self.exc = exc


def handle(
    sessions: sessionmaker[Session],
    *,
    consumer: str,
    queue: str,
    message: dict[str, Any],
    handler: Handler,
    settings: MessagingSettings,
) -> str:
    """Apply one delivery of a message; returns what happened (for logs and tests)."""
    try:
        event = events.parse(message)
    except (SchemaError, KeyError, TypeError, ValueError) as exc:
        event_id = str(message.get("event_id", "unknown")) if isinstance(message, dict) else "unknown"
        park(
            sessions,
            message=message if isinstance(message, dict) else {"raw": repr(message)},
            event_id=event_id[:36],
            consumer=consumer,
            queue=queue,
            attempts=1,
            error=f"malformed message: {exc}",
        )
        return "malformed"
    attempts = begin_attempt(sessions, event.event_id, consumer)
    if attempts is None:
        return "duplicate"
    if attempts > settings.max_attempts:
        park(
            sessions,
            message=message,
            event_id=event.event_id,
            consumer=consumer,
            queue=queue,
            attempts=attempts - 1,
            error=None,
        )
        return "parked"
    try:
        with sessions.begin() as session:
            if not claim(session, event.event_id, consumer):
                duplicate = True
            else:
                duplicate = False
                CURRENT_ATTEMPT.set(attempts)
                handler(session, event)
    except Exception as exc:
        if isinstance(exc, SoftTimeLimitExceeded):
            _OUT_OF_TIME.set(True)
        error = f"{type(exc).__name__}: {exc}"
        _record_error(sessions, event.event_id, consumer, error)
        if attempts >= settings.max_attempts:
            park(
                sessions,
                message=message,
                event_id=event.event_id,
                consumer=consumer,
                queue=queue,
                attempts=attempts,
                error=error,
            )
            return "parked"
        log.warning("%s failed attempt %d of %s: %s", consumer, attempts, event.event_id, error)
        raise RetryLater(backoff_seconds(attempts, settings), exc) from None
    if duplicate:  # a concurrent delivery applied it first
        absorb_duplicate(sessions, event.event_id, consumer)
        return "duplicate"
    return "applied"


def register_consumer(
    celery_app: Celery,
    *,
    queue: str,
    event_type: str,
    handler: Handler,
    sessions: Callable[[], sessionmaker[Session]],
) -> Task:
    """Register ``handler`` as the idempotent consumer of ``event_type`` on ``queue``.

    The handler is reachable two ways: its own task ``<queue>.on_<event>`` (one event per
    message: retries, replays, single sends) and the queue's batch task ``<queue>.on_events``
    (several events per message, sent by the relay when rows pile up).
    """
    name = task_name(queue, event_type)
    settings = MessagingSettings()
    registry: dict[str, Handler] = celery_app.__dict__.setdefault("ecase_handlers", {})
    registry[event_type] = handler
    _ensure_batch_task(celery_app, queue, sessions)

    # shared=False: the task belongs to this app only (Celery attaches shared tasks to every app
    # created later in the process, bound to this app's sessions).
    @celery_app.task(
        name=name, bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None, shared=False
    )
    def consume(self: Task, event: dict[str, Any]) -> str:
        try:
            outcome = handle(
                sessions(), consumer=name, queue=queue, message=event, handler=handler, settings=settings
            )
        except RetryLater as later:
            raise self.retry(countdown=later.countdown, exc=later.exc) from None
        except Exception as exc:  # the inbox itself failed (database down, locked): never ack and lose it
            raise _retry_infrastructure(self, exc, settings) from None
        event_id = event.get("event_id") if isinstance(event, dict) else None
        send_acks(self.app, outbox_of(self), queue, [str(event_id)] if event_id else [])
        return outcome

    return consume


def _ensure_batch_task(celery_app: Celery, queue: str, sessions: Callable[[], sessionmaker[Session]]) -> None:
    name = batch_task_name(queue)
    if name in celery_app.tasks:
        return
    settings = MessagingSettings()

    # shared=False: the task belongs to this app only (Celery attaches shared tasks to every app
    # created later in the process, bound to this app's sessions).
    @celery_app.task(
        name=name, bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None, shared=False
    )
    def consume_batch(self: Task, events_: list[dict[str, Any]]) -> dict[str, int]:
        registry: dict[str, Handler] = celery_app.__dict__.get("ecase_handlers", {})
        done: list[str] = []
        try:
            outcome = handle_batch(
                self.app,
                sessions(),
                queue=queue,
                messages=events_,
                handlers=registry,
                settings=settings,
                sender=outbox_of(self),
                done=done,
            )
        except Exception as exc:  # see consume(): the whole message is sent again, effects stay single
            raise _retry_infrastructure(self, exc, settings) from None
        send_acks(self.app, outbox_of(self), queue, done)
        return outcome


def _retry_infrastructure(task: Task, exc: Exception, settings: MessagingSettings) -> Exception:
    """Re-send a message whose inbox bookkeeping failed (R9, R11) instead of acknowledging it away."""
    log.warning("%s could not use its database (%s); retrying", task.name, type(exc).__name__)
    retries = int(getattr(task.request, "retries", 0) or 0)
    return task.retry(countdown=backoff_seconds(retries + 1, settings), exc=exc, max_retries=None)


def outbox_of(task: Task) -> str | None:
    """The service whose outbox sent the message being handled (None: not sent by a relay)."""
    value = task.request.get(OUTBOX_HEADER) or (task.request.headers or {}).get(OUTBOX_HEADER)
    return str(value) if value in QUEUES else None


def send_acks(celery_app: Celery, outbox: str | None, queue: str, event_ids: list[str]) -> None:
    """Tell the outbox that sent these events that ``queue`` is done with them (best effort).

    Sent after the commit.  A lost acknowledgement (crash, broker restart) only means the outbox
    sends the event again later, which the inbox absorbs and acknowledges then.
    """
    if outbox is None or not event_ids:
        return
    try:
        with celery_app.producer_or_acquire() as producer:
            # Straight to the queue (the default exchange), like Celery's own task messages: a
            # Redis that restarted without persistence has lost its exchange bindings, and kombu
            # drops a message sent to an exchange with no binding.
            producer.publish(
                {"queue": queue, "event_ids": event_ids},
                exchange="",
                routing_key=ack_queue(outbox).name,
                serializer="json",
                retry=True,
                retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5},
            )
    except Exception as exc:  # the effect is committed; the outbox will ask again
        log.warning("could not acknowledge %d event(s) to %s: %s", len(event_ids), outbox, exc)


def batch_task_name(queue: str) -> str:
    """The task that receives several events in one message."""
    return f"{queue}.on_events"


def handle_batch(
    celery_app: Celery,
    sessions: sessionmaker[Session],
    *,
    queue: str,
    messages: list[dict[str, Any]],
    handlers: dict[str, Handler],
    settings: MessagingSettings,
    sender: str | None = None,
    done: list[str] | None = None,
) -> dict[str, int]:
    """Apply several events: all in two transactions when all is well, one by one otherwise.

    Fast path (first delivery of every event, no handler error): one transaction raises every
    attempt counter, one applies every event with its inbox row.  Anything else — a redelivered
    batch (some event was tried before: perhaps it crashed the process), an error, an unknown
    event — falls back to the one-by-one path of ``handle``, where each event has its own
    attempts, retries (re-sent as a single-event message) and dead letter.  So a poison event
    in a batch ends in dead letters alone; its neighbours are applied.

    The whole message shares one time limit.  When its soft limit strikes, the events not yet
    finished are handed back as single-event messages at once instead of running on into the
    hard limit, whose kill is acknowledged (``task_acks_on_failure_or_timeout``) and would drop
    them.

    ``done`` receives the ids of the events finished here (applied, duplicate, parked); an event
    re-sent for a retry or handed back is finished by that message.  ``sender`` travels with them.
    """
    done = [] if done is None else done
    outcome: dict[str, int] = {}
    out_of_time = False
    _OUT_OF_TIME.set(False)

    def send_alone(message: dict[str, Any], name: str, countdown: float) -> None:
        celery_app.send_task(
            name,
            kwargs={"event": message},
            queue=queue,
            countdown=countdown,
            headers={OUTBOX_HEADER: sender} if sender else None,
        )

    parsed: list[tuple[dict[str, Any], events.Event | None]] = []
    for message in messages:
        try:
            parsed.append((message, events.parse(message)))
        except (SchemaError, KeyError, TypeError, ValueError):
            parsed.append((message, None))
    fresh = [ev for _, ev in parsed if ev is not None and ev.event_type in handlers]
    if len(fresh) == len(parsed) and _first_delivery(sessions, queue, fresh):
        try:
            _apply_all(sessions, queue, fresh, handlers)
            outcome["applied"] = len(fresh)
            done.extend(ev.event_id for ev in fresh)
            return outcome
        except SoftTimeLimitExceeded:
            log.warning("batch of %d on %s ran out of time; handing the events back", len(fresh), queue)
            out_of_time = True
        except Exception as exc:  # one of them failed: retry them one by one below
            log.warning("batch of %d on %s failed (%s); applying one by one", len(fresh), queue, exc)
    for message, event in parsed:
        event_type = event.event_type if event else str(message.get("event_type", "?"))
        name = task_name(queue, event_type)
        handler = handlers.get(event_type)
        if out_of_time:
            send_alone(message, name, 0)
            result = "handed_back"
        elif handler is None:
            park(
                sessions,
                message=message,
                event_id=str(message.get("event_id", "unknown"))[:36],
                consumer=name,
                queue=queue,
                attempts=1,
                error=f"no consumer for {event_type} on {queue}",
            )
            result = "parked"
        else:
            try:
                result = handle(
                    sessions, consumer=name, queue=queue, message=message, handler=handler, settings=settings
                )
            except RetryLater as later:
                send_alone(message, name, later.countdown)
                result = "retry"
            out_of_time = _OUT_OF_TIME.get()
        if result not in ("retry", "handed_back") and isinstance(message, dict) and message.get("event_id"):
            done.append(str(message["event_id"]))
        outcome[result] = outcome.get(result, 0) + 1
    return outcome


def _first_delivery(sessions: sessionmaker[Session], queue: str, batch: list[events.Event]) -> bool:
    """Raise every attempt counter to 1 in one committed transaction, if none was tried before."""
    ids = [ev.event_id for ev in batch]
    with sessions.begin() as session:
        seen = session.scalar(
            select(func.count()).select_from(_ATTEMPTS).where(_ATTEMPTS.c.event_id.in_(ids))
        ) or session.scalar(
            select(func.count()).select_from(_PROCESSED).where(_PROCESSED.c.event_id.in_(ids))
        )
        if seen:
            return False
        now = utcnow()
        session.execute(
            _ATTEMPTS.insert(),
            [
                {
                    "event_id": ev.event_id,
                    "consumer": task_name(queue, ev.event_type),
                    "attempts": 1,
                    "first_at": now,
                    "last_at": now,
                }
                for ev in batch
            ],
        )
    return True


def _apply_all(
    sessions: sessionmaker[Session], queue: str, batch: list[events.Event], handlers: dict[str, Handler]
) -> None:
    now = utcnow()
    with sessions.begin() as session:
        session.execute(
            _PROCESSED.insert(),
            [
                {
                    "event_id": ev.event_id,
                    "consumer": task_name(queue, ev.event_type),
                    "processed_at": now,
                    "duplicates": 0,
                }
                for ev in batch
            ],
        )
        CURRENT_ATTEMPT.set(1)
        for ev in batch:
            handlers[ev.event_type](session, ev)


# --- ops.probe: the platform's own keyed event -----------------------------------------------
def on_probe(session: Session, event: events.Event) -> None:
    """Record a probe key once; misbehave on purpose when faults are allowed (tests, chaos)."""
    p = event.payload
    if env_bool("ALLOW_FAULTS", False) and p.get("fault"):
        if p["fault"] == "exit":
            os._exit(9)
        if p["fault"] == "sleep":
            time.sleep(p["sleep_ms"] / 1000)
        if p["fault"] == "raise":
            count = CURRENT_ATTEMPT.get()
            if p["fail_times"] == 0 or count <= p["fail_times"]:
                raise RuntimeError(f"probe fault on attempt {count}")
    existing = session.get(ProbeReceipt, p["key"])
    if existing is not None:
        existing.executions += 1
        return
    session.add(ProbeReceipt(key=p["key"], event_id=event.event_id, sent_at=p["sent_at"]))
