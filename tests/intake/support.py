"""Helpers of intake's tests: valid national IDs, case bodies, tokens, PDFs, a migrated database."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from services.intake import create_app
from services.intake.reference import load_reference_data
from services.intake.services import Actor
from shared import auth
from shared.testing.system import System
from shared.thai import national_id_check_digit

PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
OFFICER = Actor("officer.1008", "officer", "1008", "127.0.0.1")


def national_id(rng: random.Random | None = None) -> str:
    """A random national ID with a valid check digit."""
    r = rng or random
    first12 = str(r.randint(1, 8)) + "".join(str(r.randint(0, 9)) for _ in range(11))
    return first12 + str(national_id_check_digit(first12))


def house_id(rng: random.Random | None = None) -> str:
    """A random 11-digit house registration number."""
    r = rng or random
    return "".join(str(r.randint(0, 9)) for _ in range(11))


def case_body(**overrides: Any) -> dict[str, Any]:
    """A valid ``POST /cases`` body (KTB account, medical assistance)."""
    body: dict[str, Any] = {
        "national_id": national_id(),
        "title": "นาง",
        "sex": "female",
        "first_name": "สมศรี",
        "last_name": "ใจดี",
        "birth_date": "1970-05-01",
        "disabled": False,
        "welfare_type_code": "MEDICAL",
        "amount": "3000.00",
        "hardship": "ป่วยเรื้อรัง รายได้ไม่พอค่ารักษา",
        "bank": {"bank_code": "006", "account_name": "สมศรี ใจดี", "account_no": "1234567890"},
        "phone": "0812345678",
        "email": "somsri@example.com",
    }
    body.update(overrides)
    return body


def token(secret: str, role: str = "officer", district: str | None = "1008") -> str:
    """An access token for a role and district."""
    name = f"{role}.{district}" if district else role
    return auth.issue_token(username=name, role=role, district_code=district, secret=secret)[0]


def bearer(secret: str, role: str = "officer", district: str | None = "1008") -> dict[str, str]:
    """The Authorization header of a role and district."""
    return {"Authorization": f"Bearer {token(secret, role, district)}"}


class IntakeEnv:
    """A migrated intake database with reference data, and the app on it."""

    def __init__(self, system: System, app: Flask) -> None:
        self.system = system
        self.app = app
        self.secret: str = system.env["ECASE_SECRET_KEY"]
        self.sessions: sessionmaker[Session] = app.extensions["ecase"].sessions

    def headers(self, role: str = "officer", district: str | None = "1008") -> dict[str, str]:
        """Authorization for a role and district."""
        return bearer(self.secret, role, district)

    def record(
        self, client: Any, role: str = "officer", district: str = "1008", **overrides: Any
    ) -> dict[str, Any]:
        """Record a case through the API and return its body (asserting 201)."""
        r = client.post(
            "/api/intake/cases", json=case_body(**overrides), headers=self.headers(role, district)
        )
        assert r.status_code == 201, r.json
        return dict(r.json)


@contextmanager
def intake_env(workdir: Path, backend: str, **config: Any) -> Iterator[IntakeEnv]:
    """Start nothing: migrate intake on a backend, build the app in process."""
    system = System(workdir, backend=backend)
    system.migrate(("intake",))
    try:
        with system.environment():
            app = create_app(
                {
                    "DATABASE_URL": system.database_url("intake"),
                    "TESTING": True,
                    "DOCUMENTS_DIR": str(workdir / "documents"),
                    **config,
                }
            )
            with app.extensions["ecase"].sessions.begin() as session:
                load_reference_data(session)
            yield IntakeEnv(system, app)
            app.extensions["ecase"].engine.dispose()
    finally:
        system.close()


def utc(year: int, month: int, day: int, hour: int = 3) -> dt.datetime:
    """A UTC moment (03:00 UTC is 10:00 in Bangkok)."""
    return dt.datetime(year, month, day, hour, tzinfo=dt.UTC)
