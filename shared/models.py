"""Platform tables that every service database has: outbox, inbox, attempts, dead letters, jobs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import PlatformBase, UTCDateTime, utcnow

# BigInteger ids that still autoincrement on SQLite (which only does so for INTEGER).
BigId = BigInteger().with_variant(Integer(), "sqlite")


class OutboxMessage(PlatformBase):
    """One message to one destination queue, written in the same transaction as the change."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        UniqueConstraint("event_id", "destination"),
        Index("ix_outbox_messages_unsent", "published_at", "id"),
        Index("ix_outbox_messages_unacked", "acked_at", "published_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36))
    event_type: Mapped[str] = mapped_column(String(80))
    destination: Mapped[str] = mapped_column(String(40))
    task_name: Mapped[str] = mapped_column(String(120))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    send_attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The consumer handled it (applied, duplicate or parked): the relay never sends it again.
    acked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Which memory of the broker it was sent into (shared.outbox.Relay.broker_epoch).
    broker_epoch: Mapped[str | None] = mapped_column(String(80), nullable=True)


class ProcessedMessage(PlatformBase):
    """The inbox: an event id applied by a consumer, recorded with the effect."""

    __tablename__ = "processed_messages"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    consumer: Mapped[str] = mapped_column(String(120), primary_key=True)
    processed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Redeliveries absorbed after the effect was applied (reliability.md R2, chaos metrics).
    duplicates: Mapped[int] = mapped_column(Integer, default=0)


class MessageAttempt(PlatformBase):
    """Delivery attempts of one event to one consumer, committed before the work starts.

    A process killed by SIGKILL cannot record its own failure, so the counter is raised in its
    own transaction first (reliability.md R4).
    """

    __tablename__ = "message_attempts"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    consumer: Mapped[str] = mapped_column(String(120), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    first_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class DeadLetter(PlatformBase):
    """A message parked after too many failed attempts, visible and replayable."""

    __tablename__ = "dead_letters"
    __table_args__ = (UniqueConstraint("event_id", "consumer"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36))
    event_type: Mapped[str] = mapped_column(String(80))
    consumer: Mapped[str] = mapped_column(String(120))
    queue: Mapped[str] = mapped_column(String(40))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default="parked")  # parked | replayed
    replayed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    replayed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)


class Job(PlatformBase):
    """Long-running work started over HTTP (202 + job id), followed at /api/jobs/{id}."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued|running|done|failed
    district_code: Mapped[str | None] = mapped_column(String(8), nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class WorkerHeartbeat(PlatformBase):
    """The last sign of life of each worker process of this service (operator screen)."""

    __tablename__ = "worker_heartbeats"

    hostname: Mapped[str] = mapped_column(String(200), primary_key=True)
    pid: Mapped[int] = mapped_column(Integer)
    queue: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProbeReceipt(PlatformBase):
    """The effect of an ``ops.probe`` event: one row per key, ever (tests, benchmarks, health)."""

    __tablename__ = "probe_receipts"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36))
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    executions: Mapped[int] = mapped_column(Integer, default=1)
