"""Start the real processes of E-Case (web, workers, relays) for end-to-end tests and benchmarks.

A ``System`` runs the commands of ``deploy/Procfile`` as separate processes, on the embedded
default (SQLite files and the filesystem broker in a temporary folder) or on PostgreSQL and
Redis (throwaway databases and a unique Redis key prefix), so tests can kill and restart any
one of them.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

import psutil
import requests
from celery import Celery
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from shared.config import SERVICES
from shared.db import drop_database, make_engine, make_sessionmaker
from shared.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
PROCFILE = ROOT / "deploy" / "Procfile"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
T = TypeVar("T")


def procfile() -> dict[str, str]:
    """Process name -> command, from deploy/Procfile."""
    out = {}
    for line in PROCFILE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, command = line.partition(":")
            out[name.strip()] = command.strip()
    return out


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Callable[[], T | None], *, timeout: float, interval: float = 0.05, what: str = "") -> T:
    """Poll ``check`` until it returns something truthy, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception as exc:  # the thing polled may not be up yet
            last_error = exc
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what or check}: {last_error}")


class System:
    """A set of E-Case processes with their own databases and broker."""

    def __init__(
        self,
        workdir: Path,
        *,
        backend: str = "embedded",
        extra_env: Mapping[str, str] | None = None,
        pg_server: str | None = None,
        redis_url: str | None = None,
    ) -> None:
        if backend not in ("embedded", "postgres"):
            raise ValueError(backend)
        self.backend = backend
        self.workdir = workdir
        self.logdir = workdir / "logs"
        self.logdir.mkdir(parents=True, exist_ok=True)
        self.data_dir = workdir / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.ports = {svc: free_port() for svc in SERVICES}
        self.tag = secrets.token_hex(4)
        env = {
            "ECASE_DATA_DIR": str(self.data_dir),
            "ECASE_SECRET_KEY": secrets.token_urlsafe(48),
            "ECASE_ALLOW_FAULTS": "1",
            "ECASE_WORKER_CONCURRENCY": "2",
            "PYTHONUNBUFFERED": "1",
        }
        for svc, port in self.ports.items():
            env[f"ECASE_{svc.upper()}_PORT"] = str(port)
            env[f"ECASE_{svc.upper()}_URL"] = f"http://127.0.0.1:{port}"
        if backend == "postgres":
            self.pg_server = pg_server or os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG
            env["ECASE_DATABASE_URL"] = self.pg_server
            env["ECASE_DATABASE_PREFIX"] = f"ecase_t{self.tag}_"
            env["ECASE_BROKER_URL"] = redis_url or os.environ.get("TEST_REDIS_URL") or DEFAULT_REDIS
            env["ECASE_BROKER_KEY_PREFIX"] = f"ecase-test-{self.tag}:"
            env["ECASE_RATELIMIT_STORAGE_URI"] = "memory://"
        else:
            env["ECASE_BROKER_URL"] = "filesystem://"
        env.update(extra_env or {})
        self.env = env
        self._saved_env: dict[str, str | None] = {}

    # --- databases ---------------------------------------------------------------------------
    def database_url(self, service: str) -> str:
        """The URL of one service's database in this system."""
        if self.backend == "postgres":
            base = make_url(self.pg_server if "://" in self.pg_server else DEFAULT_PG)
            return base.set(database=f"{self.env['ECASE_DATABASE_PREFIX']}{service}").render_as_string(
                hide_password=False
            )
        return f"sqlite:///{self.data_dir / f'{service}.db'}"

    def migrate(self, services: tuple[str, ...] = SERVICES) -> None:
        """Create and migrate the databases (in this process)."""
        with self.environment():
            for svc in services:
                upgrade(ROOT / "services" / svc / "migrations", self.database_url(svc))

    def sessions(self, service: str, *, write: bool = False) -> sessionmaker[Session]:
        """A session factory on one service's database (read-only unless ``write``)."""
        if not hasattr(self, "_engines"):
            self._engines: dict[tuple[str, bool], Any] = {}
        if (service, write) not in self._engines:
            self._engines[(service, write)] = make_engine(self.database_url(service), read_only=not write)
        return make_sessionmaker(self._engines[(service, write)])

    def celery(self, name: str = "test") -> Celery:
        """A Celery app on this system's broker (to send messages directly)."""
        from shared.celery import make_celery

        with self.environment():
            return make_celery(name)

    @contextmanager
    def environment(self) -> Iterator[None]:
        """Make this process see the system's settings while inside the block."""
        saved = {k: os.environ.get(k) for k in self.env}
        os.environ.update(self.env)
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    # --- processes ---------------------------------------------------------------------------
    def start(self, *names: str) -> None:
        """Start processes by their Procfile names."""
        commands = procfile()
        venv_bin = str(Path(os.sys.executable).parent)
        env = {**os.environ, **self.env, "PATH": f"{venv_bin}:{os.environ.get('PATH', '')}"}
        for name in names:
            log = open(self.logdir / f"{name}.log", "ab")  # noqa: SIM115 - owned by the process
            command = re.sub(
                r"\$\{(\w+):-([^}]*)\}", lambda m: env.get(m.group(1), m.group(2)), commands[name]
            )
            self.processes[name] = subprocess.Popen(
                ["bash", "-c", f"exec {command}"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 15) -> int | None:
        """Signal one process group and wait for it to end."""
        proc = self.processes.pop(name, None)
        if proc is None:
            return None
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            return proc.wait(timeout=5)

    def kill(self, name: str) -> None:
        """SIGKILL a process and everything it started (a crash, not a shutdown)."""
        self.stop(name, signal.SIGKILL)

    def pid(self, name: str) -> int:
        """The main pid of a running process."""
        return self.processes[name].pid

    def children(self, name: str) -> list[int]:
        """Pids of the direct children of a process (a Celery worker's pool)."""
        try:
            return [c.pid for c in psutil.Process(self.pid(name)).children()]
        except psutil.NoSuchProcess:
            return []

    def url(self, service: str, path: str = "") -> str:
        """http://127.0.0.1:<port><path> of a web process."""
        return f"http://127.0.0.1:{self.ports[service]}{path}"

    def wait_healthy(self, service: str, timeout: float = 60) -> None:
        """Wait until a web process answers its health check."""
        path = "/api/gateway/health" if service == "gateway" else f"/api/{service}/health"
        wait_for(
            lambda: requests.get(self.url(service, path), timeout=2).status_code == 200,
            timeout=timeout,
            what=f"{service} health",
        )

    def wait_worker(self, service: str, timeout: float = 60) -> None:
        """Wait until a worker of ``service`` has written a heartbeat."""
        from sqlalchemy import select

        from shared.models import WorkerHeartbeat

        def ready() -> bool:
            with self.sessions(service)() as s:
                return s.scalars(select(WorkerHeartbeat)).first() is not None

        wait_for(ready, timeout=timeout, interval=0.1, what=f"{service} worker heartbeat")

    def log(self, name: str) -> str:
        """What a process has printed so far."""
        path = self.logdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def close(self) -> None:
        """Stop every process and drop the databases."""
        for name in list(self.processes):
            self.stop(name, signal.SIGKILL)
        for engine in getattr(self, "_engines", {}).values():
            engine.dispose()
        if self.backend == "postgres":
            for svc in SERVICES:
                drop_database(self.database_url(svc))

    def command_line(self, name: str) -> list[str]:
        """The argv a Procfile entry expands to (for documentation and debugging)."""
        return shlex.split(procfile()[name])
