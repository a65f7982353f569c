"""Configuration read from the environment, with safe embedded defaults.

Every setting has an ``ECASE_`` name; per-service overrides use ``ECASE_<SERVICE>_<NAME>``
(for example ``ECASE_PAYMENT_DATABASE_URL``).  The embedded default keeps everything under
``$ECASE_DATA_DIR`` (default ``./data``): one SQLite file per service and a filesystem broker.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

SERVICES = ("intake", "approval", "payment", "reporting", "gateway")

# Default ports of the embedded run; the gateway is the only entry point people use.
DEFAULT_PORTS = {"gateway": 8000, "intake": 8001, "approval": 8002, "payment": 8003, "reporting": 8004}


def env(name: str, default: str | None = None, *, service: str | None = None) -> str | None:
    """Read ``ECASE_<SERVICE>_<NAME>`` first, then ``ECASE_<NAME>``, then the default."""
    if service:
        value = os.environ.get(f"ECASE_{service.upper()}_{name}")
        if value not in (None, ""):
            return value
    value = os.environ.get(f"ECASE_{name}")
    return value if value not in (None, "") else default


def env_int(name: str, default: int, *, service: str | None = None) -> int:
    """Read an integer setting."""
    return int(env(name, str(default), service=service) or default)


def env_float(name: str, default: float, *, service: str | None = None) -> float:
    """Read a decimal-number setting (seconds, intervals); never used for money."""
    return float(env(name, str(default), service=service) or default)


def env_bool(name: str, default: bool, *, service: str | None = None) -> bool:
    """Read a yes/no setting."""
    raw = env(name, None, service=service)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def data_dir() -> Path:
    """The folder of the embedded run: databases, broker files, documents, secrets."""
    path = Path(env("DATA_DIR", "./data") or "./data").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url(service: str) -> str:
    """The SQLAlchemy URL of one service's own database.

    ``ECASE_<SVC>_DATABASE_URL`` is used as given.  ``ECASE_DATABASE_URL`` may name a server
    (``postgresql+psycopg://postgres@127.0.0.1:5432``) — each service then gets the database
    ``ecase_<service>`` — or contain ``{service}`` to place the name itself.  Without either,
    the service uses ``$ECASE_DATA_DIR/<service>.db`` (SQLite).
    """
    own = os.environ.get(f"ECASE_{service.upper()}_DATABASE_URL")
    if own:
        return own
    shared_url = os.environ.get("ECASE_DATABASE_URL")
    if shared_url:
        if "{service}" in shared_url:
            return shared_url.format(service=service)
        parts = urlsplit(shared_url)
        prefix = env("DATABASE_PREFIX", "ecase_") or "ecase_"
        return urlunsplit((parts.scheme, parts.netloc, f"/{prefix}{service}", parts.query, ""))
    return f"sqlite:///{data_dir() / f'{service}.db'}"


def broker_url() -> str:
    """The Celery broker: Redis in production, the filesystem transport by default."""
    return env("BROKER_URL", "filesystem://") or "filesystem://"


def secret_key() -> str:
    """The key that signs access tokens and sessions.

    Production must set ``ECASE_SECRET_KEY``.  The embedded run creates a random key once in
    the data folder, so there is never a usable default key.
    """
    value = env("SECRET_KEY")
    if value:
        return value
    path = data_dir() / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def service_url(service: str) -> str:
    """Where the gateway finds a service (``ECASE_<SVC>_URL``)."""
    return env("URL", f"http://127.0.0.1:{DEFAULT_PORTS[service]}", service=service) or ""


@dataclass(frozen=True)
class MessagingSettings:
    """Delivery settings shared by producers, relays and workers (reliability.md R3–R5, R9)."""

    max_attempts: int = field(default_factory=lambda: env_int("MAX_ATTEMPTS", 3))
    retry_backoff_max: int = field(default_factory=lambda: env_int("RETRY_BACKOFF_MAX", 60))
    visibility_timeout: int = field(default_factory=lambda: env_int("VISIBILITY_TIMEOUT", 2 * 3600))
    task_soft_time_limit: int = field(default_factory=lambda: env_int("TASK_SOFT_TIME_LIMIT", 25 * 60))
    task_time_limit: int = field(default_factory=lambda: env_int("TASK_TIME_LIMIT", 30 * 60))
    polling_interval: float = field(default_factory=lambda: env_float("BROKER_POLLING_INTERVAL", 0.05))
    relay_interval: float = field(default_factory=lambda: env_float("RELAY_INTERVAL", 0.05))
    relay_batch: int = field(default_factory=lambda: env_int("RELAY_BATCH", 200))
    # Events to one queue sent together in one broker message (1 = one event per message).
    relay_message_events: int = field(default_factory=lambda: env_int("RELAY_MESSAGE_EVENTS", 50))
    # How often the relay asks Redis whether it lost its memory (restart, flush), in seconds.
    broker_check_interval: float = field(default_factory=lambda: env_float("BROKER_CHECK_INTERVAL", 1.0))
    # A sent event nobody acknowledged for this long is sent again once its queue is empty.
    outbox_resend_after: int = field(default_factory=lambda: env_int("OUTBOX_RESEND_AFTER", 3600))
