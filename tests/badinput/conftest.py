"""One live E-Case on PostgreSQL + Redis for the whole tests/badinput package (started once)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.badinput.live import World, seed_world, start_live

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "badinput"


@pytest.fixture(scope="package")
def world(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[World]:
    """Every process of deploy/Procfile on PostgreSQL, the demo users, and the seeded objects."""
    system = start_live(tmp_path_factory.mktemp("badinput"))
    try:
        yield seed_world(system)
    finally:
        system.close()
        failed = any(
            getattr(item, "rep_call", None) is not None and item.rep_call.failed
            for item in request.session.items
            if str(item.path).startswith(str(Path(__file__).parent))
        )
        if failed:
            shutil.copytree(system.logdir, ARTIFACTS / "logs", dirs_exist_ok=True)
