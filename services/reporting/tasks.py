"""Reporting's consumers (thin: parse, open a transaction, call a service function)."""

from __future__ import annotations

from celery import Celery
from flask import Flask


def register(app: Flask, celery_app: Celery) -> None:
    """Register reporting's event consumers."""
    del app, celery_app  # stage events arrive with the reporting issue
