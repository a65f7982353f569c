"""Seeding the catalogue (idempotent, never overwriting the central office) and document storage."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.intake.models import Programme, WelfareType
from services.intake.reference import load_reference_data
from services.intake.storage import DocumentStore
from tests.intake.support import intake_env

pytestmark = [pytest.mark.integration]


def test_seeding_twice_keeps_the_central_offices_changes(tmp_path: Path) -> None:
    with intake_env(tmp_path, "embedded") as env:
        with env.sessions.begin() as s:
            wt = s.get(WelfareType, "MEDICAL")
            assert wt is not None
            wt.ceiling = wt.ceiling and wt.ceiling - 1000
            wt.updated_by = "central.admin"
        with env.sessions.begin() as s:
            load_reference_data(s)
        with env.sessions() as s:
            assert str(s.get(WelfareType, "MEDICAL").ceiling) == "4000.00"  # type: ignore[union-attr]
            assert s.scalar(select(func.count()).select_from(WelfareType)) == 5
            assert s.scalar(select(func.count()).select_from(Programme)) == 1


def test_documents_are_stored_once_by_content(tmp_path: Path) -> None:
    store = DocumentStore(tmp_path / "documents")
    content = b"%PDF-1.4 hello %%EOF"
    sha = store.put(content)
    assert sha == hashlib.sha256(content).hexdigest()
    assert store.put(content) == sha
    assert store.path(sha).read_bytes() == content
    assert [p.name for p in store.path(sha).parent.iterdir()] == [sha]  # no temporary files left
    with pytest.raises(ValueError):
        store.path("../../etc/passwd")


def test_document_limit_is_configurable_and_bounds_the_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.intake import create_app

    monkeypatch.setenv("ECASE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ECASE_SECRET_KEY", "k" * 48)
    config = {"DATABASE_URL": f"sqlite:///{tmp_path / 'intake.db'}", "TESTING": True}
    default = create_app(config)
    assert default.config["MAX_DOCUMENT_BYTES"] == 10 * 1024 * 1024
    assert default.config["MAX_CONTENT_LENGTH"] == 10 * 1024 * 1024 + 64 * 1024
    assert default.extensions["intake_documents"].root == tmp_path / "documents"
    monkeypatch.setenv("ECASE_INTAKE_MAX_DOCUMENT_BYTES", "2000000")
    configured = create_app(config)
    assert configured.config["MAX_DOCUMENT_BYTES"] == 2_000_000
    for app in (default, configured):
        app.extensions["ecase"].engine.dispose()
