"""Reporting's worker: ``celery -A services.reporting.worker worker -Q reporting``."""

from services.reporting import create_app, tasks
from shared.worker import init_worker

app = create_app()
celery_app = init_worker(app)
tasks.register(app, celery_app)
