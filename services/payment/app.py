"""Payment's app factory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from services.payment.api import blp
from shared.web import create_service_app


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the payment service."""
    return create_service_app("payment", config, title="E-Case payment", blueprints=[blp])
