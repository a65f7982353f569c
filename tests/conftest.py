"""Fixtures shared by the whole suite."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.testing.system import System

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.fixture
def make_system(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[..., System]]:
    """Build ``System``s (real processes); logs are kept in test-artifacts/ when a test fails."""
    systems: list[System] = []

    def make(backend: str = "embedded", **kwargs: Any) -> System:
        system = System(tmp_path / f"system{len(systems)}", backend=backend, **kwargs)
        systems.append(system)
        return system

    yield make
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for system in systems:
        system.close()
        if failed:
            target = ARTIFACTS / request.node.name.replace("/", "_")
            shutil.copytree(system.logdir, target / system.workdir.name, dirs_exist_ok=True)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Remember each phase's report on the item (used to keep logs of failed tests)."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
