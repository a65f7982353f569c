"""``python -m services.intake.manage migrate|seed``."""

from __future__ import annotations

import sys
from pathlib import Path

from services.intake.reference import load_reference_data
from shared import manage
from shared.config import database_url
from shared.db import make_engine, make_sessionmaker


def seed() -> None:
    """Load districts, banks and the welfare catalogue."""
    engine = make_engine(database_url("intake"))
    with make_sessionmaker(engine).begin() as session:
        load_reference_data(session)
    engine.dispose()


if __name__ == "__main__":
    sys.exit(manage.main("intake", Path(__file__).parent / "migrations", seed=seed))
