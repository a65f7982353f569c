"""Reporting's app factory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from services.reporting.api import blp
from services.reporting.welfare_card.api import blp as welfare_card_blp
from shared.web import create_service_app


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the reporting service."""
    return create_service_app(
        "reporting", config, title="E-Case reporting", blueprints=[blp, welfare_card_blp]
    )
