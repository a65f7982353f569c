"""The two PDFs of a case: by content, size-limited, content-addressed, versioned, audited."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from services.intake import handlers
from services.intake.models import CaseDocument
from shared.audit import AuditEntry
from tests.intake.api.conftest import MAX_DOCUMENT_BYTES
from tests.intake.support import PDF, IntakeEnv

pytestmark = [pytest.mark.integration]


def upload(
    client: FlaskClient,
    env: IntakeEnv,
    case_id: str,
    content: bytes,
    *,
    kind: str = "related",
    name: str = "scan.pdf",
    role: str = "officer",
    district: str = "1008",
) -> Any:
    return client.post(
        f"/api/intake/cases/{case_id}/documents",
        data={"kind": kind, "file": (io.BytesIO(content), name)},
        headers=env.headers(role, district),
        content_type="multipart/form-data",
    )


def versions(env: IntakeEnv, case_id: str) -> list[CaseDocument]:
    with env.sessions() as s:
        return list(
            s.scalars(select(CaseDocument).where(CaseDocument.case_id == case_id).order_by(CaseDocument.id))
        )


def test_upload_and_download_a_pdf(env: IntakeEnv, client: FlaskClient) -> None:
    case = env.record(client)
    r = upload(client, env, case["id"], PDF, kind="financial", name="สมุดบัญชี.pdf")
    assert r.status_code == 201, r.json
    sha = hashlib.sha256(PDF).hexdigest()
    assert r.json["sha256"] == sha
    assert r.json["size"] == len(PDF)
    assert r.json["kind"] == "financial"
    stored = env.app.extensions["intake_documents"].path(sha)
    assert stored.read_bytes() == PDF
    assert stored.parent.name == sha[:2]
    got = client.get(
        f"/api/intake/cases/{case['id']}/documents/financial", headers=env.headers("finance", "1008")
    )
    assert got.status_code == 200
    assert got.data == PDF
    assert got.mimetype == "application/pdf"
    assert got.headers["Content-Disposition"] == f"attachment; filename={case['case_no']}-financial.pdf"
    with env.sessions() as s:
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.object_id == case["id"])).all()
    assert actions == ["case.record", "document.upload", "document.download"]


def test_replacing_keeps_the_old_version_in_the_trail(env: IntakeEnv, client: FlaskClient) -> None:
    case = env.record(client)
    second = PDF.replace(b"Catalog", b"Catalog /V 2")
    assert upload(client, env, case["id"], PDF).status_code == 201
    assert upload(client, env, case["id"], second, role="head").status_code == 201
    docs = versions(env, case["id"])
    assert [d.replaced_at is not None for d in docs] == [True, False]
    assert docs[0].replaced_by == "head.1008"
    assert (
        client.get(f"/api/intake/cases/{case['id']}/documents/related", headers=env.headers()).data == second
    )
    detail = client.get(f"/api/intake/cases/{case['id']}", headers=env.headers()).json
    assert len(detail["documents"]) == 2
    assert detail["missing_documents"] == ["financial"]
    assert "document.replace" in [a["action"] for a in detail["audit_trail"]]
    assert env.app.extensions["intake_documents"].path(docs[0].sha256).exists()


def test_an_earlier_version_is_downloaded_by_its_sha256(env: IntakeEnv, client: FlaskClient) -> None:
    case = env.record(client)
    second = PDF.replace(b"Catalog", b"Catalog /V 2")
    assert upload(client, env, case["id"], PDF).status_code == 201
    assert upload(client, env, case["id"], second).status_code == 201
    path = f"/api/intake/cases/{case['id']}/documents/related"
    old_sha, new_sha = hashlib.sha256(PDF).hexdigest(), hashlib.sha256(second).hexdigest()

    got = client.get(f"{path}?sha256={old_sha}", headers=env.headers("central_admin", None))
    assert got.status_code == 200
    assert got.data == PDF
    assert (
        got.headers["Content-Disposition"]
        == f"attachment; filename={case['case_no']}-related-{old_sha[:8]}.pdf"
    )
    assert client.get(f"{path}?sha256={new_sha}", headers=env.headers()).data == second

    missing = client.get(f"{path}?sha256={'0' * 64}", headers=env.headers())
    assert missing.status_code == 404
    assert missing.json["error"]["code"] == "document_not_found"
    other_kind = client.get(
        f"/api/intake/cases/{case['id']}/documents/financial?sha256={old_sha}", headers=env.headers()
    )
    assert other_kind.status_code == 404
    bad = client.get(f"{path}?sha256=ABC", headers=env.headers())
    assert bad.status_code == 400
    assert "sha256" in bad.json["error"]["fields"]
    other_district = client.get(f"{path}?sha256={old_sha}", headers=env.headers("officer", "1001"))
    assert other_district.status_code == 404
    with env.sessions() as s:
        downloads = s.scalars(
            select(AuditEntry).where(
                AuditEntry.object_id == case["id"], AuditEntry.action == "document.download"
            )
        ).all()
    assert len(downloads) == 2


@pytest.mark.parametrize(
    ("content", "name", "status", "code"),
    [
        (b"PK\x03\x04 this is a zip file renamed", "scan.pdf", 415, "not_pdf"),
        (b"\x89PNG\r\n\x1a\n....", "scan.pdf", 415, "not_pdf"),
        (PDF[: len(PDF) // 2], "scan.pdf", 400, "truncated_pdf"),
        (b"", "scan.pdf", 400, "empty_file"),
    ],
    ids=["zip-renamed", "png-renamed", "truncated", "empty"],
)
def test_refused_uploads_save_nothing(
    env: IntakeEnv, client: FlaskClient, content: bytes, name: str, status: int, code: str
) -> None:
    case = env.record(client)
    r = upload(client, env, case["id"], content, name=name)
    assert r.status_code == status, r.json
    assert r.json["error"]["code"] == code
    assert "file" in r.json["error"]["fields"]
    assert versions(env, case["id"]) == []


def test_oversized_upload_is_413(env: IntakeEnv, client: FlaskClient) -> None:
    case = env.record(client)
    big = b"%PDF-1.4\n" + b"0" * (MAX_DOCUMENT_BYTES + 1) + b"\n%%EOF\n"
    r = upload(client, env, case["id"], big)
    assert r.status_code == 413
    assert r.json["error"]["code"] == "file_too_large"
    # Just over the document limit but within the request limit: refused by the bytes read.
    near = b"%PDF-1.4\n" + b"0" * (MAX_DOCUMENT_BYTES - 11) + b"\n%%EOF\n"
    assert len(near) == MAX_DOCUMENT_BYTES + 5
    r = upload(client, env, case["id"], near)
    assert r.status_code == 413
    assert versions(env, case["id"]) == []


def test_missing_file_or_kind_is_400(env: IntakeEnv, client: FlaskClient) -> None:
    case = env.record(client)
    r = client.post(
        f"/api/intake/cases/{case['id']}/documents",
        data={"kind": "related"},
        headers=env.headers(),
        content_type="multipart/form-data",
    )
    assert r.status_code == 400
    assert "file" in r.json["error"]["fields"]
    r = upload(client, env, case["id"], PDF, kind="other")
    assert r.status_code == 400
    assert "kind" in r.json["error"]["fields"]


def test_documents_are_only_for_the_owning_district_and_central(env: IntakeEnv, client: FlaskClient) -> None:
    case = env.record(client)
    assert upload(client, env, case["id"], PDF).status_code == 201
    url = f"/api/intake/cases/{case['id']}/documents/related"
    assert client.get(url, headers=env.headers("officer", "1001")).status_code == 404
    assert client.get(url, headers=env.headers("operator", None)).status_code == 403
    assert client.get(url, headers=env.headers("central_admin", None)).status_code == 200
    assert upload(client, env, case["id"], PDF, district="1001").status_code == 404
    assert (
        client.get(f"/api/intake/cases/{case['id']}/documents/financial", headers=env.headers()).status_code
        == 404
    )


def test_locked_case_documents_cannot_be_replaced(env: IntakeEnv, client: FlaskClient) -> None:
    from decimal import Decimal

    case = env.record(client)
    assert upload(client, env, case["id"], PDF).status_code == 201
    with env.sessions.begin() as s:
        handlers.lock_batch(
            s,
            batch_id=f"b-{case['id']}",
            district_code="1008",
            items=[
                {"case_id": case["id"], "welfare_type_code": "MEDICAL", "amount": Decimal(case["amount"])}
            ],
        )
    r = upload(client, env, case["id"], PDF.replace(b"1.4", b"1.5"))
    assert r.status_code == 409
    assert r.json["error"]["code"] == "case_locked"
    assert len(versions(env, case["id"])) == 1
