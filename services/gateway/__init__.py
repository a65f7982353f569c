"""Gateway: users, roles and sessions; the officers' web pages; the one HTTP entry point."""

from services.gateway.app import create_app

__all__ = ["create_app"]
