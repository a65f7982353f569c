"""Payment's fixtures: the payment app on a migrated database of each backend, in process."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from services.payment import create_app, services
from services.payment.config import PaymentSettings
from shared import events
from shared.testing.system import System
from tests.payment import factories

#: The KTB settings of the spec's test vectors (§10.1).
SPEC_SETTINGS = {
    "company_id": "TESTCO0001",
    "debit_account": "1234567890",
    "sender_name": "WELFARE FUND TEST",
}


@dataclass
class PaymentEnv:
    """The payment app of one backend and helpers around it."""

    app: Flask
    system: System
    secret: str

    @property
    def backend(self) -> str:
        return self.system.backend

    @property
    def sessions(self) -> sessionmaker[Session]:
        return self.app.extensions["ecase"].sessions

    @property
    def settings(self) -> PaymentSettings:
        return self.app.extensions["payment_settings"]

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def headers(self, role: str = "finance", district: str | None = "1008") -> dict[str, str]:
        return factories.token(self.secret, role, district)

    def approve(self, cases: list[dict[str, Any]], *, district: str = "1008") -> int:
        """Deliver a batch.approved to payment (as its worker would); return the payout batch id."""
        envelope = factories.batch_approved(cases, district=district)
        with self.sessions.begin() as session:
            batch = services.open_payout_batch(session, events.parse(envelope))
            assert batch is not None
            return batch.id

    def events(self, event_type: str) -> list[dict[str, Any]]:
        """Payloads of the events of a type in the outbox (one per event, not per subscriber)."""
        from sqlalchemy import select

        from shared.models import OutboxMessage

        with self.sessions() as s:
            rows = s.scalars(
                select(OutboxMessage).where(OutboxMessage.event_type == event_type).order_by(OutboxMessage.id)
            ).all()
            return list({r.event_id: r.body["payload"] for r in rows}.values())

    def batch(self, batch_id: int, role: str = "finance", district: str | None = "1008") -> Any:
        """GET /batches/{id} as a role (asserts 200)."""
        r = self.client().get(f"/api/payment/batches/{batch_id}", headers=self.headers(role, district))
        assert r.status_code == 200, r.json
        return r.json

    def download(self, batch_id: int, name: str) -> Any:
        """GET /batches/{id}/files/<name> as finance."""
        return self.client().get(f"/api/payment/batches/{batch_id}/files/{name}", headers=self.headers())

    def upload(self, batch_id: int, data: bytes, name: str = "result.csv") -> Any:
        """POST the bank's report as finance."""
        import io

        return self.client().post(
            f"/api/payment/batches/{batch_id}/results",
            data={"file": (io.BytesIO(data), name)},
            headers=self.headers(),
        )

    def get_import(self, import_id: int) -> Any:
        """GET /result-imports/{id} as finance (asserts 200)."""
        r = self.client().get(f"/api/payment/result-imports/{import_id}", headers=self.headers())
        assert r.status_code == 200, r.json
        return r.json

    def run_imports(self) -> None:
        """Run every queued import (what the worker does on payment.result_import_requested)."""
        from sqlalchemy import select

        from services.payment.models import ResultImport

        with self.sessions() as s:
            ids = s.scalars(select(ResultImport.id).where(ResultImport.status == "queued")).all()
        for import_id in ids:
            with self.sessions.begin() as session:
                services.run_result_import(session, import_id=import_id, settings=self.settings)


def _effective_settings() -> dict[str, Any]:
    return dict(SPEC_SETTINGS)


@pytest.fixture(scope="module", params=["embedded", "postgres"])
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PaymentEnv]:
    """The payment app on a freshly migrated database (SQLite or PostgreSQL), in process."""
    system = System(tmp_path_factory.mktemp(f"payment-{request.param}"), backend=request.param)
    system.migrate(("payment",))
    with system.environment():
        app = create_app(
            {
                "DATABASE_URL": system.database_url("payment"),
                "TESTING": True,
                "PAYMENT_SETTINGS": _effective_settings(),
            }
        )
        yield PaymentEnv(app=app, system=system, secret=system.env["ECASE_SECRET_KEY"])
        app.extensions["ecase"].engine.dispose()
    system.close()


@pytest.fixture
def tomorrow() -> dt.date:
    """An effective date the service accepts."""
    from services.payment.config import BANGKOK

    return dt.datetime.now(BANGKOK).date() + dt.timedelta(days=1)
