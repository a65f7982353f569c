"""Idempotency-Key on payment's mutating endpoints (reliability P2), on both backends.

The mechanism itself is tested in tests/shared/test_idempotency.py; here: the file download that
makes a file (its answer is replayed from the stored file, and the replay is recorded as a
download), the result upload, and concurrent repeats of both.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from services.payment.models import FileDownload, PaymentFile, ResultImport
from shared.idempotency import HEADER
from tests.payment import factories
from tests.payment.conftest import PaymentEnv

pytestmark = [pytest.mark.integration]


def key() -> str:
    return str(uuid.uuid4())


def replayed(response: Any) -> bool:
    return response.headers.get("Idempotent-Replayed") == "true"


@pytest.fixture
def one_line_per_file(env: PaymentEnv) -> Iterator[None]:
    """Every download makes a file of one line while lines are outstanding (so repeats would differ)."""
    settings = env.settings
    env.app.extensions["payment_settings"] = dataclasses.replace(
        settings, file=dataclasses.replace(settings.file, max_lines_per_file=1)
    )
    yield
    env.app.extensions["payment_settings"] = settings


def other_bank_batch(env: PaymentEnv, n: int = 3) -> int:
    return env.approve([factories.case(bank_code="004") for _ in range(n)])


def download(
    env: PaymentEnv, batch_id: int, idem: str | None, name: str = "other.txt", query: str = ""
) -> Any:
    headers = env.headers()
    if idem is not None:
        headers[HEADER] = idem
    return env.client().get(f"/api/payment/batches/{batch_id}/files/{name}{query}", headers=headers)


def upload(env: PaymentEnv, batch_id: int, data: bytes, idem: str | None) -> Any:
    headers = env.headers()
    if idem is not None:
        headers[HEADER] = idem
    return env.client().post(
        f"/api/payment/batches/{batch_id}/results",
        data={"file": (io.BytesIO(data), "result.csv")},
        headers=headers,
    )


def files_of(env: PaymentEnv, batch_id: int) -> list[PaymentFile]:
    with env.sessions() as s:
        return list(s.scalars(select(PaymentFile).where(PaymentFile.batch_id == batch_id)))


def downloads_of(env: PaymentEnv, file_id: int) -> list[FileDownload]:
    with env.sessions() as s:
        return list(s.scalars(select(FileDownload).where(FileDownload.file_id == file_id)))


def in_parallel(n: int, call: Callable[[], Any]) -> list[Any]:
    barrier = threading.Barrier(n)
    out: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run() -> None:
        try:
            barrier.wait(timeout=30)
            r = call()
            with lock:
                out.append(r)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return out


@pytest.mark.usefixtures("one_line_per_file")
class TestFileDownload:
    def test_without_a_key_each_download_makes_the_next_file(self, env: PaymentEnv) -> None:
        batch_id = other_bank_batch(env)
        first, second = download(env, batch_id, None), download(env, batch_id, None)
        assert first.status_code == second.status_code == 200
        assert first.headers["X-Payment-File-Id"] != second.headers["X-Payment-File-Id"]

    def test_a_repeat_with_the_key_gets_the_same_file_and_is_recorded(self, env: PaymentEnv) -> None:
        batch_id = other_bank_batch(env)
        idem = key()
        first = download(env, batch_id, idem)
        second = download(env, batch_id, idem)
        assert first.status_code == second.status_code == 200
        assert replayed(second)
        assert not replayed(first)
        assert second.get_data() == first.get_data()
        for name in (
            "X-Payment-File-Id",
            "X-Payment-File-Sha256",
            "X-Payment-File-Created",
            "Content-Disposition",
            "Content-Type",
        ):
            assert second.headers[name] == first.headers[name]
        assert hashlib.sha256(second.get_data()).hexdigest() == first.headers["X-Payment-File-Sha256"]
        files = files_of(env, batch_id)
        assert len(files) == 1  # no second file, although two lines are still outstanding
        recorded = downloads_of(env, files[0].id)
        assert [(d.created_file, d.format, d.sha256) for d in recorded] == [
            (True, "txt", first.headers["X-Payment-File-Sha256"]),
            (False, "txt", first.headers["X-Payment-File-Sha256"]),
        ]
        # a new key is a new request: the next outstanding line gets its own file
        third = download(env, batch_id, key())
        assert third.headers["X-Payment-File-Id"] != first.headers["X-Payment-File-Id"]

    def test_another_rendering_or_date_under_the_same_key_is_422(
        self, env: PaymentEnv, tomorrow: Any
    ) -> None:
        batch_id = other_bank_batch(env)
        idem = key()
        assert download(env, batch_id, idem).status_code == 200
        assert download(env, batch_id, idem, name="other.xlsx").status_code == 422
        dated = download(env, batch_id, idem, query=f"?effective_date={tomorrow.isoformat()}")
        assert dated.status_code == 422
        assert dated.json["error"]["code"] == "idempotency_key_reused"
        assert len(files_of(env, batch_id)) == 1

    def test_a_refused_download_does_not_use_up_the_key(self, env: PaymentEnv) -> None:
        batch_id = other_bank_batch(env, 1)
        idem = key()
        nothing = download(env, batch_id, idem, name="ktb.txt")
        assert nothing.status_code == 409
        assert nothing.json["error"]["code"] == "nothing_outstanding"
        assert download(env, batch_id, idem, name="ktb.txt").status_code == 409  # ran again, same answer

    def test_a_bad_key_is_400(self, env: PaymentEnv) -> None:
        batch_id = other_bank_batch(env, 1)
        r = download(env, batch_id, "x" * 256)
        assert r.status_code == 400
        assert r.json["error"]["code"] == "invalid_idempotency_key"
        assert files_of(env, batch_id) == []

    def test_ten_parallel_repeats_make_one_file(self, env: PaymentEnv) -> None:
        batch_id = other_bank_batch(env)
        idem = key()
        answers = in_parallel(10, lambda: download(env, batch_id, idem))
        ok = [r for r in answers if r.status_code == 200]
        assert all(r.status_code in (200, 409) for r in answers), [r.status_code for r in answers]
        assert len([r for r in ok if not replayed(r)]) == 1
        assert len({r.get_data() for r in ok}) == 1
        files = files_of(env, batch_id)
        assert len(files) == 1
        assert len(downloads_of(env, files[0].id)) == len(ok)


class TestResultUpload:
    def report(self, env: PaymentEnv) -> tuple[int, bytes]:
        batch_id = env.approve([factories.case(bank_code="004")])
        assert env.download(batch_id, "other.txt").status_code == 200
        line = env.batch(batch_id)["lines"][0]
        data = factories.result_csv(
            [
                {
                    "batch_id": "B",
                    "ref2": line["ref2"],
                    "bank_code": line["bank_code"],
                    "account_no": line["account_no"],
                    "amount": line["amount"],
                    "status": "SUCCESS",
                }
            ]
        )
        return batch_id, data

    def imports(self, env: PaymentEnv, batch_id: int) -> int:
        with env.sessions() as s:
            return int(
                s.scalar(
                    select(func.count()).select_from(ResultImport).where(ResultImport.batch_id == batch_id)
                )
            )

    def test_a_repeated_upload_is_answered_with_the_first_import(self, env: PaymentEnv) -> None:
        batch_id, data = self.report(env)
        idem = key()
        first, second = upload(env, batch_id, data, idem), upload(env, batch_id, data, idem)
        assert first.status_code == second.status_code == 202
        assert replayed(second)
        assert second.json == first.json
        assert self.imports(env, batch_id) == 1
        changed = upload(env, batch_id, data.replace(b"SUCCESS", b"FAILED "), idem)
        assert changed.status_code == 422
        assert self.imports(env, batch_id) == 1
        # without a key the duplicate is recognised by its checksum, as before (a record saying so)
        plain = upload(env, batch_id, data, None)
        assert plain.status_code == 202
        assert plain.json["duplicate_of"] == first.json["import_id"]

    def test_ten_parallel_uploads_import_once(self, env: PaymentEnv) -> None:
        batch_id, data = self.report(env)
        idem = key()
        answers = in_parallel(10, lambda: upload(env, batch_id, data, idem))
        assert all(r.status_code in (202, 409) for r in answers), [r.status_code for r in answers]
        accepted = [r for r in answers if r.status_code == 202]
        assert len([r for r in accepted if not replayed(r)]) == 1
        assert len({r.json["import_id"] for r in accepted}) == 1
        assert self.imports(env, batch_id) == 1
        env.run_imports()
        result = env.get_import(accepted[0].json["import_id"])
        assert result["paid"] == 1
        assert [line["state"] for line in env.batch(batch_id)["lines"]] == ["paid"]
