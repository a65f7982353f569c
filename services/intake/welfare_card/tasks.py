"""Intake's consumer of its own import requests (thin: read the event, apply the list)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import Flask

from services.intake.welfare_card import imports
from services.intake.welfare_card.config import init_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from shared.events import Event


def consumers(app: Flask) -> dict[str, Callable[[Session, Event], None]]:
    """Event type -> handler, for ``services.intake.tasks.register``."""
    settings = init_settings(app)

    def on_import_requested(session: Session, event: Event) -> None:
        """Check and apply an uploaded participants list, all or nothing, in the inbox's transaction."""
        imports.apply_import(session, import_id=event.payload["import_id"], settings=settings)

    return {"welfare_card.import_requested": on_import_requested}
