"""Helpers of the welfare card tests: tokens per role, lists as CSV/xlsx, running an import."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable, Sequence
from typing import Any

import openpyxl
from flask.testing import FlaskClient
from sqlalchemy import func, select

from services.intake.welfare_card import imports
from services.intake.welfare_card.config import load_settings
from services.intake.welfare_card.models import Participant
from shared import auth
from shared.models import OutboxMessage
from shared.thai import national_id_check_digit
from tests.intake.support import IntakeEnv

HEADER = ("เลขประจำตัวประชาชน", "คำนำหน้า", "ชื่อ", "นามสกุล", "รหัสอำเภอ", "หน่วยงานพัฒนา", "กลุ่ม")


def nid(rng: random.Random | None = None) -> str:
    """A random national ID with a valid check digit."""
    r = rng or random
    first12 = str(r.randint(1, 8)) + "".join(str(r.randint(0, 9)) for _ in range(11))
    return first12 + str(national_id_check_digit(first12))


def wrong_check_digit(national_id: str) -> str:
    """The same ID with a check digit that does not fit."""
    return national_id[:12] + str((int(national_id[12]) + 1) % 10)


def headers(secret: str, role: str, **scope: str | None) -> dict[str, str]:
    """Authorization for a role and scope (district_code / province_code / agency)."""
    token, _ = auth.issue_token(
        username=f"{role}.{'.'.join(v for v in scope.values() if v) or 'all'}",
        role=role,
        district_code=scope.get("district_code"),
        province_code=scope.get("province_code"),
        agency=scope.get("agency"),
        secret=secret,
    )
    return {"Authorization": f"Bearer {token}"}


def central(env: IntakeEnv) -> dict[str, str]:
    """The central office."""
    return headers(env.secret, "central_admin")


Row = Sequence[str]


def csv_bytes(rows: Iterable[Row], header: Row = HEADER, encoding: str = "utf-8") -> bytes:
    """A CSV list."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: Iterable[Sequence[Any]], header: Row = HEADER) -> bytes:
    """An xlsx list on its first sheet."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(header))
    for r in rows:
        ws.append(list(r))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def row(
    national_id: str, area: str = "2401", agency: str = "กรมการพัฒนาชุมชน", group: str = "1", **kw: str
) -> Row:
    """One line of a list."""
    return (
        national_id,
        kw.get("title", "นาง"),
        kw.get("first", "สมศรี"),
        kw.get("last", "ใจดี"),
        area,
        agency,
        group,
    )


def upload(
    client: FlaskClient,
    auth_headers: dict[str, str],
    data: bytes,
    *,
    province_code: str = "24",
    agency: str = "cdd",
    filename: str = "list.csv",
) -> Any:
    """POST /imports (the response)."""
    return client.post(
        "/api/intake/welfare-card/imports",
        headers=auth_headers,
        data={"province_code": province_code, "agency": agency, "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def apply(env: IntakeEnv, import_id: int, settings: dict[str, Any] | None = None) -> None:
    """What intake's worker does with ``welfare_card.import_requested`` (its handler's service call)."""
    with env.sessions.begin() as session:
        imports.apply_import(session, import_id=import_id, settings=load_settings(settings))


def import_list(env: IntakeEnv, client: FlaskClient, data: bytes, **kw: Any) -> dict[str, Any]:
    """Upload, apply, and return ``GET /imports/{id}``."""
    h = kw.pop("auth_headers", None) or central(env)
    r = upload(client, h, data, **kw)
    assert r.status_code == 202, r.json
    apply(env, r.json["import_id"])
    got = client.get(f"/api/intake/welfare-card/imports/{r.json['import_id']}", headers=h)
    assert got.status_code == 200, got.json
    return dict(got.json)


def participant_count(env: IntakeEnv) -> int:
    """All participants."""
    with env.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Participant)) or 0)


def events_of(env: IntakeEnv, event_type: str) -> list[dict[str, Any]]:
    """Outbox bodies of one event type (oldest first)."""
    with env.sessions() as s:
        rows = s.scalars(
            select(OutboxMessage).where(OutboxMessage.event_type == event_type).order_by(OutboxMessage.id)
        ).all()
        return [dict(r.body) for r in rows]
