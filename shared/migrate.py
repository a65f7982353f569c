"""Alembic per service: each service keeps its migrations in ``services/<svc>/migrations``.

``upgrade(service_package_dir, url)`` runs them programmatically, so no alembic.ini is needed
and the same code serves ``make run``, tests and deployments.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool

from shared.db import ensure_database, make_engine


def alembic_config(migrations_dir: Path, url: str) -> Config:
    """An Alembic Config pointing at one service's migrations and database."""
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["database_url"] = url
    return cfg


def upgrade(migrations_dir: Path, url: str, revision: str = "head") -> None:
    """Create the database if needed and migrate it to ``revision``."""
    ensure_database(url)
    command.upgrade(alembic_config(migrations_dir, url), revision)


def downgrade(migrations_dir: Path, url: str, revision: str) -> None:
    """Migrate a database down to ``revision``."""
    command.downgrade(alembic_config(migrations_dir, url), revision)


def run_env(target_metadata: list[MetaData]) -> None:
    """The body of every service's ``migrations/env.py``."""
    config = context.config
    url: str = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url") or ""
    opts: dict[str, Any] = {
        "target_metadata": target_metadata,
        "compare_type": True,
        "render_as_batch": url.startswith("sqlite"),
    }
    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True, **opts)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url, poolclass=pool.NullPool) if not url.startswith("sqlite") else make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, **opts)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
