"""Making a file while the database records its transfers in a second thread (performance work).

Lines are checked part by part and handed to the recording thread; a problem in a later part,
a file-level rule or an error of the recording itself must still leave nothing behind: no file,
no transfers, every line as it was.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from services.payment.models import FileDownload, FileLine, PaymentFile
from services.payment.services import files
from tests.payment import factories
from tests.payment.conftest import PaymentEnv

pytestmark = [pytest.mark.integration]


def nothing_recorded(env: PaymentEnv, batch_id: int) -> None:
    with env.sessions() as s:
        assert (
            s.scalar(select(func.count()).select_from(PaymentFile).where(PaymentFile.batch_id == batch_id))
            == 0
        )
        ids = select(PaymentFile.id).where(PaymentFile.batch_id == batch_id)
        assert s.scalar(select(func.count()).select_from(FileLine).where(FileLine.file_id.in_(ids))) == 0
        assert (
            s.scalar(select(func.count()).select_from(FileDownload).where(FileDownload.file_id.in_(ids))) == 0
        )
    assert {line["state"] for line in env.batch(batch_id)["lines"]} == {"pending"}


def test_lines_are_recorded_part_by_part(env: PaymentEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "_PART", 2)
    batch_id = env.approve([factories.case(bank_code="004") for _ in range(5)])
    r = env.download(batch_id, "other.txt")
    assert r.status_code == 200
    assert r.headers["X-Payment-File-Lines"] == "5"
    lines = env.batch(batch_id)["lines"]
    assert [line["state"] for line in lines] == ["sent"] * 5
    refs = [line["ref2"] for line in lines]
    assert refs == [f"WF{int(r.headers['X-Payment-File-Id']):06d}-{n:06d}" for n in range(1, 6)]


def test_a_bad_line_in_a_later_part_leaves_nothing(env: PaymentEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "_PART", 2)
    cases = [factories.case(bank_code="004") for _ in range(4)]
    cases.append(factories.case(bank_code="004", name="ชื่อ “มีเครื่องหมายคำพูด”"))  # not KTB-safe (§9)
    batch_id = env.approve(cases)
    r = env.download(batch_id, "other.txt")
    assert r.status_code == 422
    assert r.json["error"]["code"] == "lines_invalid"
    assert [p["field"] for p in r.json["error"]["problems"]] == ["account_name"]
    nothing_recorded(env, batch_id)


def test_a_failing_recording_leaves_nothing(env: PaymentEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(connection: Any, parts: Any) -> None:
        for _ in parts:
            raise RuntimeError("the database went away")

    monkeypatch.setattr(files, "_insert_transfers", broken)
    batch_id = env.approve([factories.case(bank_code="004") for _ in range(3)])
    r = env.download(batch_id, "other.txt")
    assert r.status_code == 500
    nothing_recorded(env, batch_id)


def test_a_failing_rendering_stops_the_recording(env: PaymentEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise files.ktb.FileRejected([files.ktb.LineProblem(1, "x", "ref2", "does_not_fit", "ยาวเกิน")])

    monkeypatch.setattr(files.ktb, "render_files", broken)
    batch_id = env.approve([factories.case(bank_code="004") for _ in range(3)])
    r = env.download(batch_id, "other.txt")
    assert r.status_code == 422
    assert r.json["error"]["problems"][0]["code"] == "does_not_fit"
    nothing_recorded(env, batch_id)
