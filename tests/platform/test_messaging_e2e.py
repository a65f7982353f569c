"""Events through real processes: outbox → relay → broker → worker → inbox.

Every test runs on the embedded default (SQLite, filesystem broker) and on PostgreSQL with
Redis; nothing here is skipped.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from shared import events, messaging
from shared.db import utcnow
from shared.models import DeadLetter, MessageAttempt, OutboxMessage, ProbeReceipt, ProcessedMessage
from shared.testing.system import System, wait_for

pytestmark = [pytest.mark.e2e]
BACKENDS = ["embedded", "postgres"]
FAST_RETRIES = {"ECASE_RETRY_BACKOFF_MAX": "1", "ECASE_MAX_ATTEMPTS": "3"}


def publish_probe(
    system: System, key: str, *, producer: str = "intake", queue: str = "approval", **fault: object
) -> str:
    """Publish an ops.probe through ``producer``'s outbox, in one committed transaction."""
    with system.sessions(producer, write=True).begin() as session:
        env = messaging.publish(
            session,
            "ops.probe",
            {"key": key, "sent_at": utcnow().isoformat(), **fault},
            producer=producer,
            destinations=(queue,),
        )
    return str(env["event_id"])


def receipt(system: System, key: str, service: str = "approval") -> ProbeReceipt | None:
    with system.sessions(service)() as session:
        return session.get(ProbeReceipt, key)


def attempts(system: System, event_id: str, service: str = "approval") -> int:
    with system.sessions(service)() as session:
        row = session.scalars(select(MessageAttempt).where(MessageAttempt.event_id == event_id)).first()
        return row.attempts if row else 0


def dead_letter(system: System, event_id: str, service: str = "approval") -> DeadLetter | None:
    with system.sessions(service)() as session:
        return session.scalars(select(DeadLetter).where(DeadLetter.event_id == event_id)).first()


@pytest.fixture(params=BACKENDS)
def running(request: pytest.FixtureRequest, make_system: Callable[..., System]) -> System:
    """intake's relay and approval's worker (one pool process), on each backend."""
    system = make_system(request.param, extra_env={**FAST_RETRIES, "ECASE_WORKER_CONCURRENCY": "1"})
    system.migrate(("intake", "approval"))
    system.start("intake-relay", "approval-worker")
    system.wait_worker("approval")
    return system


def test_event_reaches_another_services_consumer(running: System) -> None:
    event_id = publish_probe(running, "hello")
    got = wait_for(lambda: receipt(running, "hello"), timeout=30, what="probe receipt")
    assert got.event_id == event_id
    assert got.executions == 1
    with running.sessions("intake")() as s:
        sent = s.scalars(select(OutboxMessage).where(OutboxMessage.event_id == event_id)).one()
        assert sent.published_at is not None
        assert sent.task_name == "approval.on_ops_probe"
    with running.sessions("approval")() as s:
        assert s.get(ProcessedMessage, (event_id, "approval.on_ops_probe")) is not None


def test_rolled_back_transaction_publishes_nothing(running: System) -> None:
    def failing_change() -> None:
        with running.sessions("intake", write=True).begin() as session:
            messaging.publish(
                session,
                "ops.probe",
                {"key": "ghost", "sent_at": utcnow().isoformat()},
                producer="intake",
                destinations=("approval",),
            )
            raise RuntimeError("the business change failed")

    with pytest.raises(RuntimeError):
        failing_change()
    publish_probe(running, "after-ghost")
    wait_for(lambda: receipt(running, "after-ghost"), timeout=30, what="the later probe")
    assert receipt(running, "ghost") is None
    with running.sessions("intake")() as s:
        keys = [r.body["payload"]["key"] for r in s.scalars(select(OutboxMessage))]
    assert keys == ["after-ghost"]


def test_message_delivered_three_times_applies_once(running: System) -> None:
    envelope = events.build("ops.probe", {"key": "thrice", "sent_at": utcnow().isoformat()}, producer="test")
    app = running.celery()
    for _ in range(3):
        app.send_task(
            messaging.task_name("approval", "ops.probe"), kwargs={"event": envelope}, queue="approval"
        )

    def absorbed() -> bool:
        with running.sessions("approval")() as s:
            row = s.get(ProcessedMessage, (envelope["event_id"], "approval.on_ops_probe"))
            return row is not None and row.duplicates == 2

    wait_for(absorbed, timeout=30, what="two absorbed duplicates")
    got = receipt(running, "thrice")
    assert got is not None
    assert got.executions == 1
    with running.sessions("approval")() as s:
        assert s.scalar(select(func.count()).select_from(ProbeReceipt)) == 1


def test_killed_pool_process_loses_nothing(running: System) -> None:
    event_id = publish_probe(running, "slow", fault="sleep", sleep_ms=4000)
    wait_for(lambda: attempts(running, event_id) == 1, timeout=30, what="the task to start")
    children = running.children("approval-worker")
    assert children, "the worker has a pool process"
    for pid in children:
        signal_kill(pid)
    got = wait_for(lambda: receipt(running, "slow"), timeout=60, what="re-run after the kill")
    assert got.executions == 1
    assert attempts(running, event_id) == 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_killed_worker_main_process_loses_nothing(backend: str, make_system: Callable[..., System]) -> None:
    # A short visibility timeout so Redis hands the unacknowledged message back quickly (R3b).
    system = make_system(
        backend,
        extra_env={
            **FAST_RETRIES,
            "ECASE_WORKER_CONCURRENCY": "1",
            "ECASE_VISIBILITY_TIMEOUT": "8",
            "ECASE_TASK_TIME_LIMIT": "7",
            "ECASE_TASK_SOFT_TIME_LIMIT": "6",
            "ECASE_UNACKED_RESTORE_INTERVAL": "2",
        },
    )
    system.migrate(("intake", "approval"))
    system.start("intake-relay", "approval-worker")
    system.wait_worker("approval")
    event_id = publish_probe(system, "orphan", fault="sleep", sleep_ms=3000)
    wait_for(lambda: attempts(system, event_id) == 1, timeout=30, what="the task to start")
    system.kill("approval-worker")
    system.start("approval-worker")
    got = wait_for(lambda: receipt(system, "orphan"), timeout=90, what="redelivery after the crash")
    assert got.executions == 1
    assert attempts(system, event_id) >= 2


def test_poison_message_is_parked_while_others_flow(running: System) -> None:
    poison = publish_probe(running, "poison", fault="exit")
    keys = [f"normal-{i}" for i in range(20)]
    for key in keys:
        publish_probe(running, key)
    for key in keys:
        wait_for(lambda key=key: receipt(running, key), timeout=90, what=key)
    parked = wait_for(lambda: dead_letter(running, poison), timeout=90, what="the poison in dead letters")
    assert parked.attempts == 3
    assert parked.status == "parked"
    assert receipt(running, "poison") is None


def test_always_failing_message_ends_in_dead_letters(running: System) -> None:
    event_id = publish_probe(running, "broken", fault="raise")
    parked = wait_for(lambda: dead_letter(running, event_id), timeout=60, what="dead letter")
    assert parked.attempts == 3
    assert "probe fault on attempt 3" in (parked.last_error or "")
    assert receipt(running, "broken") is None


def test_transient_failure_is_retried_and_applied(running: System) -> None:
    event_id = publish_probe(running, "flaky", fault="raise", fail_times=1)
    got = wait_for(lambda: receipt(running, "flaky"), timeout=60, what="success on the second attempt")
    assert got.executions == 1
    assert attempts(running, event_id) == 2
    assert dead_letter(running, event_id) is None


def signal_kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
