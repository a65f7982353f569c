"""The gateway's app factory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from services.gateway.admin_api import admin_blp
from services.gateway.api import blp, register_forwarding
from services.gateway.public_api import init_app as init_public_api
from services.gateway.public_api import public_blp
from services.gateway.tokens import init_app as init_token_check
from services.gateway.web import init_web
from shared.web import create_service_app


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the gateway."""
    app = create_service_app(
        "gateway",
        config,
        title="E-Case gateway",
        blueprints=[blp, admin_blp, public_blp],
        messaging_endpoints=False,
        description="Login, forwarding of /api/<service>/..., jobs and operations.",
    )
    register_forwarding(app)
    init_token_check(app)  # after the shared token check: a stale bearer token is refused here
    init_public_api(app)
    init_web(app)
    return app
