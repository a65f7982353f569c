"""Intake's worker: ``celery -A services.intake.worker worker -Q intake``."""

from services.intake import create_app, tasks
from shared.worker import init_worker

app = create_app()
celery_app = init_worker(app)
tasks.register(app, celery_app)
