"""Approval's app factory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from services.approval.api import blp
from shared.web import create_service_app


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the approval service."""
    return create_service_app("approval", config, title="E-Case approval", blueprints=[blp])
