"""Intake's app factory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from services.intake.api import blp
from shared.web import create_service_app


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the intake service."""
    return create_service_app(
        "intake",
        config,
        title="E-Case intake",
        blueprints=[blp],
        description="Check a citizen's history; record cases, documents and home visits; the catalogue.",
    )
