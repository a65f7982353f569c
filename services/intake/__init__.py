"""Intake: citizens, cases, documents, home visits and the welfare catalogue."""

from services.intake.app import create_app

__all__ = ["create_app"]
