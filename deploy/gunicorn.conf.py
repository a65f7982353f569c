"""Gunicorn settings shared by the gateway and the services (embedded run and containers)."""

import os

worker_class = "gthread"
workers = int(os.environ.get("ECASE_WEB_WORKERS", "1"))
threads = int(os.environ.get("ECASE_WEB_THREADS", "8"))
timeout = int(os.environ.get("ECASE_WEB_TIMEOUT", "120"))
graceful_timeout = 5
keepalive = 30
accesslog = None  # request lines would carry URLs; the apps log what matters, masked
errorlog = "-"
loglevel = os.environ.get("ECASE_LOG_LEVEL", "info")
