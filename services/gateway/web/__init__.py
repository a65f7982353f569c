"""The officers' web pages, served by the gateway (Thai; server-side sessions; CSRF on every form)."""

from services.gateway.web.views import init_web

__all__ = ["init_web"]
