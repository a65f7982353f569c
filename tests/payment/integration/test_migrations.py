"""Payment's migrations create exactly the tables of models.py, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.payment.models import Base
from shared.db import make_engine
from shared.migrate import downgrade, upgrade
from shared.testing.system import System

pytestmark = [pytest.mark.integration]
MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "payment" / "migrations"


def _table(diff: Any) -> str | None:
    """The table a difference is about (platform tables are checked by the platform's tests)."""
    if isinstance(diff, list):
        diff = diff[0]
    kind, *rest = diff
    if kind.endswith("_table"):
        return str(rest[0].name)
    if kind.endswith("_index") or kind.endswith("_constraint"):
        return str(rest[0].table.name)
    return str(rest[1])  # add_column / remove_column / modify_*: (schema, table, ...)


@pytest.mark.parametrize("backend", ["embedded", "postgres"])
def test_migrations_match_the_models_and_go_down_and_up(backend: str, tmp_path: Path) -> None:
    system = System(tmp_path, backend=backend)
    try:
        url = system.database_url("payment")
        with system.environment():
            upgrade(MIGRATIONS, url)
            downgrade(MIGRATIONS, url, "0001")
            upgrade(MIGRATIONS, url)
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={"compare_type": True})
                diff = [
                    d for d in compare_metadata(context, Base.metadata) if _table(d) in Base.metadata.tables
                ]
        finally:
            engine.dispose()
        assert diff == []
    finally:
        system.close()
