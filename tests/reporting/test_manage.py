"""``python -m services.reporting.manage rebuild --from <file or folder>``."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from services.reporting import manage
from shared.testing.system import System
from tests.reporting import factories as f
from tests.reporting.factories import dump, story

pytestmark = [pytest.mark.integration]


def test_rebuild_command_reads_files_and_folders(
    sessions: sessionmaker[Session],
    system: System,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    envs = story()
    f.apply(sessions, *envs)
    incremental = dump(sessions)
    monkeypatch.setenv("ECASE_REPORTING_DATABASE_URL", system.database_url("reporting"))

    shuffled = envs[:]
    random.Random(7).shuffle(shuffled)  # the command sorts by occurred_at
    lines = tmp_path / "events.jsonl"
    lines.write_text("\n".join(json.dumps(e, ensure_ascii=False) for e in shuffled) + "\n", encoding="utf-8")
    assert manage.main(["rebuild", "--from", str(lines)]) == 0
    assert json.loads(capsys.readouterr().out) == {"applied": len(envs), "duplicates": 0, "ignored": 0}
    assert dump(sessions) == incremental

    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "a.json").write_text(json.dumps(shuffled[:10], ensure_ascii=False), encoding="utf-8")
    (folder / "b.json").write_text(json.dumps(shuffled[10], ensure_ascii=False), encoding="utf-8")
    (folder / "c.jsonl").write_text("\n".join(json.dumps(e) for e in shuffled[11:]), encoding="utf-8")
    (folder / "notes.txt").write_text("not events", encoding="utf-8")
    assert manage.main(["rebuild", "--from", str(folder)]) == 0
    assert dump(sessions) == incremental


def test_the_shared_commands_still_work(
    system: System, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ECASE_REPORTING_DATABASE_URL", system.database_url("reporting"))
    assert manage.main(["url"]) == 0
    assert capsys.readouterr().out.strip() == system.database_url("reporting")
