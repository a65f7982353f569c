"""Reporting: read models built from events; approval reports, bank forms and summaries."""

from services.reporting.app import create_app

__all__ = ["create_app"]
