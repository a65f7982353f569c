"""The intake app in process, on a migrated database of each backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from tests.intake.support import IntakeEnv, intake_env

MAX_DOCUMENT_BYTES = 64 * 1024


@pytest.fixture(scope="module", params=["embedded", "postgres"])
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[IntakeEnv]:
    """intake on SQLite (embedded) and on PostgreSQL, with reference data loaded."""
    with intake_env(
        tmp_path_factory.mktemp(f"intake-{request.param}"),
        request.param,
        MAX_DOCUMENT_BYTES=MAX_DOCUMENT_BYTES,
    ) as built:
        yield built


@pytest.fixture
def client(env: IntakeEnv) -> FlaskClient:
    """A test client of the intake app."""
    return env.app.test_client()
