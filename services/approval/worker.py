"""Approval's worker: ``celery -A services.approval.worker worker -Q approval``."""

from services.approval import create_app, tasks
from shared.worker import init_worker

app = create_app()
celery_app = init_worker(app)
tasks.register(app, celery_app)
