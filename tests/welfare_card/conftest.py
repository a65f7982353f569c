"""The intake app in process on a migrated database of each backend (areas loaded with the reference data)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from tests.intake.support import IntakeEnv, intake_env


@pytest.fixture(scope="module", params=["embedded", "postgres"])
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[IntakeEnv]:
    """intake on SQLite (embedded) and on PostgreSQL."""
    with intake_env(
        tmp_path_factory.mktemp(f"wc-{request.param}"),
        request.param,
        WELFARE_CARD={"max_import_bytes": 2 * 1024 * 1024},
    ) as built:
        yield built


@pytest.fixture
def client(env: IntakeEnv) -> FlaskClient:
    """A test client of the intake app."""
    return env.app.test_client()
