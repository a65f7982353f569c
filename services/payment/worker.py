"""Payment's worker: ``celery -A services.payment.worker worker -Q payment``."""

from services.payment import create_app, tasks
from shared.worker import init_worker

app = create_app()
celery_app = init_worker(app)
tasks.register(app, celery_app)
