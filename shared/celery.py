"""The Celery app factory every service uses, with the delivery settings of reliability.md.

Settings: late acknowledgement, re-queue when a pool child dies, prefetch 1, JSON only, no
result backend (results and job progress live in the service database), and one visibility
timeout set in every place Redis reads it (R5).  The embedded default uses the durable
filesystem transport of ``shared.fsbroker``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from celery import Celery, Task

from shared import fsbroker
from shared.config import MessagingSettings, broker_url, data_dir, env, env_int


def broker_settings(url: str | None = None) -> tuple[str, dict[str, Any]]:
    """The broker URL to use and its transport options."""
    url = url or broker_url()
    settings = MessagingSettings()
    if url.startswith(("filesystem://", f"{fsbroker.ALIAS}://")):
        folder = data_dir() / "broker"
        queue_dir = folder / "queue"
        for sub in (queue_dir, folder / "control", folder / "tmp", folder / "inflight"):
            sub.mkdir(parents=True, exist_ok=True)
        return f"{fsbroker.ALIAS}://", {
            "data_folder_in": str(queue_dir),
            "data_folder_out": str(queue_dir),
            "control_folder": str(folder / "control"),
            "store_processed": False,
            "polling_interval": settings.polling_interval,
        }
    options: dict[str, Any] = {"visibility_timeout": settings.visibility_timeout}
    if url.startswith(("redis://", "rediss://")):
        # kombu puts un-acked messages of dead workers back on the queue once they are older
        # than the visibility timeout; it looks every interval × throttle seconds (R3b).
        options["unacked_restore_interval"] = env_int("UNACKED_RESTORE_INTERVAL", 10)
        options["unacked_restore_throttle"] = 1
        prefix = env("BROKER_KEY_PREFIX")
        if prefix:  # several deployments (or test runs) sharing one Redis
            options["global_keyprefix"] = prefix
    return url, options


def make_celery(name: str, *, include: tuple[str, ...] = (), flask_app: Any = None) -> Celery:
    """Create the Celery app of a service; tasks run inside the Flask app context if given."""
    url, options = broker_settings()
    settings = MessagingSettings()

    class FlaskTask(Task):  # type: ignore[misc]
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            if flask_app is None:
                return self.run(*args, **kwargs)
            with flask_app.app_context():
                return self.run(*args, **kwargs)

    app = Celery(name, task_cls=FlaskTask, include=list(include))
    app.conf.update(
        broker_url=url,
        broker_transport_options=options,
        result_backend=None,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        task_default_queue=name,
        task_create_missing_queues=True,
        task_soft_time_limit=settings.task_soft_time_limit,
        task_time_limit=settings.task_time_limit,
        visibility_timeout=settings.visibility_timeout,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        worker_soft_shutdown_timeout=10,
        # Results are not used, so a dead pool process need not be waited for (R3a: within 10 s).
        worker_lost_wait=1.0,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        task_send_sent_event=False,
        enable_utc=True,
        timezone="Asia/Bangkok",
    )
    return app


def check_timeouts(app: Celery) -> list[str]:
    """Return the violations of soft limit < hard limit < visibility timeout (R5)."""
    conf = app.conf
    problems = []
    vt = conf.broker_transport_options.get("visibility_timeout", conf.get("visibility_timeout"))
    if not conf.task_soft_time_limit < conf.task_time_limit:
        problems.append("task_soft_time_limit must be below task_time_limit")
    if vt is not None and not conf.task_time_limit < vt:
        problems.append("task_time_limit must be below the visibility timeout")
    if vt is not None and MessagingSettings().retry_backoff_max >= vt:
        problems.append("retry_backoff_max must be below the visibility timeout")
    return problems


def queue_depth(app: Celery, queue: str) -> int | None:
    """Messages waiting on a queue (None when the broker cannot be reached)."""
    try:
        with app.connection_for_read() as conn:
            channel = conn.default_channel
            return int(channel._size(queue))  # both transports implement _size
    except Exception:  # broker down: the operator sees "unknown", not an error page
        return None


def data_path(*parts: str) -> Path:
    """A path under the data folder (broker files, documents)."""
    return data_dir().joinpath(*parts)
