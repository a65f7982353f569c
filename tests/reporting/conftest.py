"""Fixtures of reporting's tests: a migrated reporting database on each backend, emptied per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from services.reporting.models import EVENT_TABLES, RptBudget, RptTemplate
from shared.testing.system import System

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "reporting"


@pytest.fixture(scope="module", params=["embedded", "postgres"])
def system(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """A reporting database (SQLite, or PostgreSQL) for the tests of one module."""
    s = System(tmp_path_factory.mktemp(f"reporting-{request.param}"), backend=request.param)
    s.migrate(("reporting",))
    yield s
    s.close()


@pytest.fixture
def sessions(system: System) -> sessionmaker[Session]:
    """Write sessions on reporting's database, every reporting table emptied first."""
    factory = system.sessions("reporting", write=True)
    with factory.begin() as s:
        for model in (*EVENT_TABLES, RptBudget, RptTemplate):
            s.execute(delete(model))
    return factory


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where tests leave files for people to look at (rendered pages)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
