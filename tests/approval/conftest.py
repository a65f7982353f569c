"""Fixtures of approval's tests: the app on a migrated database of each backend."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from services import approval
from services.approval import intake_client
from services.approval.models import AgendaItem, Batch, BatchItem, Meeting
from shared.models import Job, MessageAttempt, OutboxMessage, ProcessedMessage
from shared.testing.system import System
from tests.approval.helpers import FakeIntake, WSGIAdapter, bearer, fake_intake


@dataclass
class Env:
    """Approval's app on one backend, with its sessions and token secret."""

    system: System
    app: Flask
    secret: str
    intake: FakeIntake

    @property
    def backend(self) -> str:
        return self.system.backend

    @property
    def sessions(self) -> sessionmaker[Session]:
        return self.app.extensions["ecase"].sessions

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def call(
        self, method: str, path: str, *, role: str = "officer", district: str | None = "1008", **kw: Any
    ) -> Any:
        """Call an approval endpoint as ``role`` of ``district``."""
        headers = {**bearer(self.secret, role, district), **kw.pop("headers", {})}
        return self.client().open(f"/api/approval{path}", method=method, headers=headers, **kw)


@pytest.fixture(scope="module", params=["embedded", "postgres"])
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    """Approval's app on migrated databases of one backend (intake answered by a stand-in)."""
    system = System(tmp_path_factory.mktemp(f"approval-{request.param}"), backend=request.param)
    system.migrate(("approval",))
    intake = fake_intake()
    with system.environment():
        app = approval.create_app({"DATABASE_URL": system.database_url("approval"), "TESTING": True})
        adapter = WSGIAdapter(intake.app)
        intake_client.HTTP.mount(system.env["ECASE_INTAKE_URL"], adapter)
        try:
            yield Env(system, app, system.env["ECASE_SECRET_KEY"], intake)
        finally:
            intake_client.HTTP.adapters.pop(system.env["ECASE_INTAKE_URL"], None)
            app.extensions["ecase"].engine.dispose()
    system.close()


@pytest.fixture(autouse=True)
def _clean(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts with empty business tables (the audit log is append-only and stays)."""
    yield
    if "env" not in request.fixturenames:
        return
    env: Env = request.getfixturevalue("env")
    env.intake.calls.clear()
    with env.sessions.begin() as s:
        for table in (
            BatchItem,
            AgendaItem,
            Batch,
            Meeting,
            OutboxMessage,
            ProcessedMessage,
            MessageAttempt,
            Job,
        ):
            s.execute(delete(table))
