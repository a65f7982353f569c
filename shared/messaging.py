"""Queues, the routing table and ``publish``.

One queue per consuming service.  An event is a task message sent to each subscriber's queue
under the task name ``<subscriber>.on_<event with dots as underscores>``; producers never
import consumer code.  ``publish`` only writes outbox rows in the caller's transaction; the
relay (``shared.outbox``) sends them after commit.
"""

from __future__ import annotations

from typing import Any

from kombu import Exchange, Queue
from sqlalchemy import insert
from sqlalchemy.orm import Session

from shared import events
from shared.contracts import STAGE_EVENTS
from shared.models import OutboxMessage

QUEUES = ("intake", "approval", "payment", "reporting")

#: Message header naming the service whose outbox sent the message: its acknowledgement goes there.
OUTBOX_HEADER = "ecase_outbox"


def ack_queue(service: str) -> Queue:
    """Where consumers acknowledge the events ``service``'s outbox sent (its relay drains it).

    Not a Celery queue: no worker consumes it.  A body is ``{"queue": <consumer queue>,
    "event_ids": [...]}``; it is sent to the default exchange (routing key = queue name).
    """
    name = f"ecase.acks.{service}"
    return Queue(name, Exchange(""), routing_key=name, durable=True)


#: event type -> the queues that receive it.  Producers own their events (DESIGN.md).
ROUTES: dict[str, tuple[str, ...]] = {
    # ops.probe goes to the queue named in publish(..., destinations=...) (health checks, tests).
    "ops.probe": (),
}
for _event_type, (_version, _schema, _queues) in STAGE_EVENTS.items():
    events.register(_event_type, _version, _schema)
    ROUTES[_event_type] = _queues


def route(event_type: str, subscribers: tuple[str, ...]) -> None:
    """Declare who receives an event type (called where the stage events are defined)."""
    for queue in subscribers:
        if queue not in QUEUES:
            raise ValueError(f"unknown queue {queue}")
    ROUTES[event_type] = subscribers


def task_name(queue: str, event_type: str) -> str:
    """The consumer task name for an event on a queue, e.g. ``approval.on_case_registered``."""
    return f"{queue}.on_{event_type.replace('.', '_')}"


_INSERT_OUTBOX = insert(OutboxMessage.__table__)  # plain Core: no ORM bulk-insert work per call


def publish(
    session: Session,
    event_type: str,
    payload: dict[str, Any],
    *,
    producer: str,
    destinations: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """Validate an event and write one outbox row per subscriber in the caller's transaction.

    The rows are inserted at once (one executemany of a plain Core ``INSERT``), which may come
    before pending ORM changes of the same transaction are flushed: harmless, since they commit
    together, outbox rows have no foreign keys and the relay sends by id whatever has committed.
    """
    envelope = events.build(event_type, payload, producer=producer)
    targets = destinations if destinations is not None else ROUTES[event_type]
    rows = []
    for queue in targets:
        if queue not in QUEUES:
            raise ValueError(f"unknown queue {queue}")
        rows.append(
            {
                "event_id": envelope["event_id"],
                "event_type": event_type,
                "destination": queue,
                "task_name": task_name(queue, event_type),
                "body": envelope,
            }
        )
    if rows:
        session.execute(_INSERT_OUTBOX, rows)
    return envelope
