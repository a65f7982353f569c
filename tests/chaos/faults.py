"""The faults a chaos run injects, each against processes this run started itself.

* ``RedisServer``: the run's own ``redis-server`` (same flags as the machine's broker: no RDB, no
  AOF, so a restart loses everything queued), started, shut down with ``nosave`` and started
  again.  The shared Redis on 6379 is never touched: other people's runs use it.
* ``Faults``: SIGKILL a pool child or the worker's main process, SIGKILL a relay,
  ``pg_terminate_backend`` on the run's own databases (``ecase_t<tag>_*``) — each recorded with
  its time so the runner can measure what it cost.
* ``Supervisor``: what production's ``restart: unless-stopped`` (docker-compose.yml) does — a
  process that exits by itself is started again, and every such crash is recorded (a finding).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import psycopg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from shared.db import utcnow
from shared.models import WorkerHeartbeat
from shared.testing.system import System, free_port, wait_for


class RedisServer:
    """A redis-server owned by this run (never the shared one)."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.dir = workdir / "redis"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None
        self.restarts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it with the machine's broker flags (persistence off) and wait for PONG."""
        self._log = open(self.dir / "redis.log", "ab")  # noqa: SIM115 - closed in shutdown()
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(lambda: self.cli("ping") == "PONG", timeout=15, interval=0.05, what="redis-server")

    def cli(self, *args: str) -> str:
        out = subprocess.run(
            ["redis-cli", "-p", str(self.port), *args], capture_output=True, text=True, timeout=10
        )
        return out.stdout.strip()

    def shutdown(self) -> None:
        """``redis-cli shutdown nosave``: everything in memory is gone."""
        if self.proc is None:
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            subprocess.run(["redis-cli", "-p", str(self.port), "shutdown", "nosave"], timeout=10)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self, down_seconds: float) -> None:
        self.shutdown()
        time.sleep(down_seconds)  # the broker is down this long (the fault itself, not a wait)
        self.start()
        self.restarts += 1

    def close(self) -> None:
        self.shutdown()


@dataclass
class Fault:
    """One injected fault and when it happened."""

    kind: str
    at: dt.datetime
    detail: dict[str, Any] = field(default_factory=dict)
    # What was in flight when it happened (filled by the runner): event id -> attempts / sends.
    snapshot: dict[str, Any] = field(default_factory=dict)


class Faults:
    """Inject faults into one System's processes; every fault is appended to ``log``."""

    def __init__(self, system: System, redis: RedisServer, rng: random.Random) -> None:
        self.system = system
        self.redis = redis
        self.rng = rng
        self.log: list[Fault] = []
        self._orphans: list[int] = []
        self._killed: set[int] = set()
        # Held while a fault stops and starts a process, so the supervisor does not meddle.
        self.lock = threading.Lock()

    def _record(self, kind: str, **detail: Any) -> Fault:
        fault = Fault(kind, utcnow(), detail)
        self.log.append(fault)
        return fault

    def kill_pool_child(self, worker: str) -> Fault | None:
        """SIGKILL one random pool process of a worker (the OOM killer's choice)."""

        def alive() -> list[int]:
            out = []
            for pid in self.system.children(worker):
                with contextlib.suppress(psutil.NoSuchProcess):
                    if pid not in self._killed and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                        out.append(pid)
            return out

        try:
            # Not while a (re)started worker is still booting: Celery exits on purpose when a pool
            # process dies before the worker is ready ("Could not start worker processes").
            self.wait_ready(worker)
            children = wait_for(alive, timeout=30, what=f"{worker}'s pool")
        except TimeoutError:
            return None
        pid = self.rng.choice(children)
        return self.kill_child(worker, pid)

    def wait_ready(self, worker: str, timeout: float = 60) -> None:
        """Until the worker's current main process has reported ready (its first heartbeat)."""
        service = worker.removesuffix("-worker")

        def ready() -> bool:
            pid = self.system.pid(worker)
            with self.system.sessions(service)() as s:
                return bool(
                    s.scalar(
                        select(func.count()).select_from(WorkerHeartbeat).where(WorkerHeartbeat.pid == pid)
                    )
                )

        wait_for(ready, timeout=timeout, interval=0.2, what=f"{worker} ready")
        time.sleep(0.5)  # the pool's start check runs right after the ready signal

    def kill_child(self, worker: str, pid: int) -> Fault:
        """SIGKILL a given pool process of a worker."""
        fault = self._record("pool child SIGKILL", worker=worker, pid=pid)
        self._killed.add(pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        return fault

    def kill_worker_main(self, worker: str) -> Fault:
        """SIGKILL the worker's main process only, then start a new worker.

        Its pool children are orphaned as on a real crash: one may still finish and commit the
        message it holds while Redis hands that message out again (the inbox absorbs it).  They
        are SIGKILLed a few seconds later if still there.
        """
        with self.lock:
            proc = self.system.processes.pop(worker)
            with contextlib.suppress(psutil.NoSuchProcess):
                self._orphans.extend(c.pid for c in psutil.Process(proc.pid).children())
            fault = self._record("worker main SIGKILL", worker=worker, pid=proc.pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            self.system.start(worker)
        return fault

    def reap_orphans(self) -> int:
        """SIGKILL pool processes left behind by a killed main process; returns how many lived."""
        alive = 0
        for pid in self._orphans:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                alive += 1
        self._orphans.clear()
        return alive

    def kill_relay(self, relay: str) -> Fault:
        """SIGKILL an outbox relay between rounds or in one, then start it again."""
        with self.lock:
            fault = self._record("relay SIGKILL", relay=relay)
            self.system.kill(relay)
            self.system.start(relay)
        return fault

    def restart_redis(self, down_seconds: float = 2.0) -> Fault:
        """``shutdown nosave`` and start again: every queued and unacknowledged message is gone."""
        fault = self._record("Redis restart (nosave)", down_seconds=down_seconds)
        self.redis.restart(down_seconds)
        return fault

    def terminate_pg(self, service: str | None = None) -> Fault:
        """``pg_terminate_backend`` for this system's databases (or one service's) only."""
        fault = self._record("PostgreSQL connections terminated", service=service or "all")
        fault.detail["terminated"] = terminate_backends(self.system, service)
        return fault


class Supervisor(threading.Thread):
    """Start again any process of the system that exited on its own (docker's restart policy)."""

    def __init__(self, system: System, faults: Faults, interval: float = 0.5) -> None:
        super().__init__(name="chaos-supervisor", daemon=True)
        self.system, self.faults, self.interval = system, faults, interval
        self.stop = threading.Event()
        self.crashes: list[dict[str, Any]] = []

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            with self.faults.lock:
                for name, proc in list(self.system.processes.items()):
                    code = proc.poll()
                    if code is None:
                        continue
                    self.crashes.append({"process": name, "exit_code": code, "at": utcnow().isoformat()})
                    self.system.start(name)


def terminate_backends(system: System, service: str | None = None) -> int:
    """Terminate the connections to this system's databases; returns how many were ended."""
    url = make_url(system.database_url(service or "intake"))
    prefix = system.env["ECASE_DATABASE_PREFIX"]
    escaped = prefix.replace("_", r"\_")  # "_" is a LIKE wildcard
    pattern = f"{escaped}{service}" if service else f"{escaped}%"
    conninfo = f"host={url.host} port={url.port or 5432} user={url.username} dbname=postgres"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname LIKE %s AND pid <> pg_backend_pid()",
            (pattern,),
        ).fetchall()
    return sum(1 for (ok,) in rows if ok)
