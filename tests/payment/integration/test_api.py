"""Payment's HTTP API in process, on SQLite and PostgreSQL: batches, files, corrections, settlement."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import replace
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select

from services.payment.ktb import DETAIL, HEADER
from services.payment.models import FileDownload, PaymentFile, PayoutLine
from shared.audit import AuditEntry
from shared.models import OutboxMessage
from tests.payment import factories
from tests.payment.conftest import PaymentEnv

pytestmark = [pytest.mark.integration]


def detail(env: PaymentEnv, batch_id: int, role: str = "finance", district: str | None = "1008") -> Any:
    r = env.client().get(f"/api/payment/batches/{batch_id}", headers=env.headers(role, district))
    assert r.status_code == 200, r.json
    return r.json


def download(env: PaymentEnv, batch_id: int, name: str, query: str = "", **headers: str) -> Any:
    return env.client().get(
        f"/api/payment/batches/{batch_id}/files/{name}{query}", headers={**env.headers(), **headers}
    )


def records(txt: bytes) -> list[str]:
    return txt.decode("cp874").split("\r\n")[:-1]


def outbox(env: PaymentEnv, event_type: str) -> list[dict[str, Any]]:
    """Payloads of the events of a type (one per event, whatever the number of subscribers)."""
    with env.sessions() as s:
        rows = s.scalars(
            select(OutboxMessage).where(OutboxMessage.event_type == event_type).order_by(OutboxMessage.id)
        ).all()
        return list({r.event_id: r.body["payload"] for r in rows}.values())


class TestBatches:
    def test_list_with_counts_per_state_scoped_by_district(self, env: PaymentEnv) -> None:
        own = env.approve(factories.spec_cases())
        other = env.approve([factories.case(district="1001")], district="1001")
        r = env.client().get("/api/payment/batches?status=open", headers=env.headers())
        assert r.status_code == 200
        ids = {b["id"] for b in r.json["items"]}
        assert own in ids
        assert other not in ids
        mine = next(b for b in r.json["items"] if b["id"] == own)
        assert mine["counts"]["pending"] == {"count": 3, "amount": "2400.50"}
        assert mine["counts"]["paid"] == {"count": 0, "amount": "0.00"}
        assert mine["total_amount"] == "2400.50"
        central = env.client().get(
            "/api/payment/batches?per_page=500", headers=env.headers("central_admin", None)
        )
        assert {own, other} <= {b["id"] for b in central.json["items"]}

    def test_accounts_in_full_only_for_owning_finance_head_and_central(self, env: PaymentEnv) -> None:
        batch_id = env.approve(factories.spec_cases())
        for role, district in (("finance", "1008"), ("head", "1008"), ("central_admin", None)):
            body = detail(env, batch_id, role, district)
            assert body["accounts_masked"] is False
            assert body["lines"][0]["account_no"] == "9876543210"
        officer = detail(env, batch_id, "officer", "1008")
        assert officer["accounts_masked"] is True
        assert [line["account_no"] for line in officer["lines"]] == [
            "xxxxxx3210",
            "xxxxxx3334",
            "xxxxxxxx5678",
        ]

    def test_another_districts_batch_is_404_everywhere(self, env: PaymentEnv) -> None:
        batch_id = env.approve(factories.spec_cases())
        line_id = detail(env, batch_id)["lines"][0]["id"]
        c, h = env.client(), env.headers("finance", "1001")
        assert c.get(f"/api/payment/batches/{batch_id}", headers=h).status_code == 404
        assert c.get(f"/api/payment/batches/{batch_id}/review", headers=h).status_code == 404
        assert c.get(f"/api/payment/batches/{batch_id}/files/ktb.txt", headers=h).status_code == 404
        assert c.post(f"/api/payment/batches/{batch_id}/settle", headers=h).status_code == 404
        upload = {"file": (io.BytesIO(b"ref2,account_no,amount,status\n"), "r.csv")}
        assert c.post(f"/api/payment/batches/{batch_id}/results", data=upload, headers=h).status_code == 404
        assert (
            c.post(f"/api/payment/lines/{line_id}/close-failed", json={"reason": "x"}, headers=h).status_code
            == 404
        )
        assert c.get("/api/payment/batches/999999999", headers=env.headers()).status_code == 404

    def test_roles(self, env: PaymentEnv) -> None:
        batch_id = env.approve(factories.spec_cases())
        c = env.client()
        assert c.get("/api/payment/batches", headers=env.headers("operator", None)).status_code == 403
        assert c.get(f"/api/payment/batches/{batch_id}", headers=env.headers("officer")).status_code == 200
        assert (
            c.get(
                f"/api/payment/batches/{batch_id}/files/ktb.txt", headers=env.headers("officer")
            ).status_code
            == 403
        )
        central = env.headers("central_admin", None)
        assert c.post(f"/api/payment/batches/{batch_id}/settle", headers=central).status_code == 403


class TestFiles:
    def test_txt_and_xlsx_of_a_group_are_the_same_file_and_every_download_is_recorded(
        self, env: PaymentEnv
    ) -> None:
        batch_id = env.approve(factories.spec_cases())
        txt = download(env, batch_id, "other.txt")
        assert txt.status_code == 200
        assert txt.headers["Content-Type"] == "text/plain; charset=windows-874"
        assert txt.headers["X-Payment-File-Created"] == "1"
        assert txt.headers["Content-Disposition"].startswith('attachment; filename="KTB_STD_')
        xlsx = download(env, batch_id, "other.xlsx")
        assert xlsx.status_code == 200
        assert xlsx.headers["X-Payment-File-Created"] == "0"
        assert xlsx.headers["X-Payment-File-Id"] == txt.headers["X-Payment-File-Id"]
        again = download(env, batch_id, "other.txt")
        assert again.data == txt.data  # the stored file, byte for byte
        details = [DETAIL.parse(r) for r in records(txt.data)[1:]]
        sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data)).active
        xlsx_refs = [row[6] for row in sheet.iter_rows(min_row=3, values_only=True)]
        assert [d["ref2"] for d in details] == xlsx_refs
        assert {d["recv_bank"] for d in details} == {"004", "034"}
        header = HEADER.parse(records(txt.data)[0])
        assert (header["total_txn"], header["total_amount"]) == ("0000002", "0000000000000180050")
        with env.sessions() as s:
            file_id = int(txt.headers["X-Payment-File-Id"])
            rows = s.scalars(
                select(FileDownload).where(FileDownload.file_id == file_id).order_by(FileDownload.id)
            ).all()
            assert [(r.format, r.created_file, r.downloaded_by, r.line_count) for r in rows] == [
                ("txt", True, "finance.1008", 2),
                ("xlsx", False, "finance.1008", 2),
                ("txt", False, "finance.1008", 2),
            ]
            assert rows[0].sha256 == txt.headers["X-Payment-File-Sha256"]
            assert rows[1].sha256 == xlsx.headers["X-Payment-File-Sha256"]
        body = detail(env, batch_id)
        states = {line["bank_code"]: (line["state"], line["ref2"]) for line in body["lines"]}
        assert states["006"] == ("pending", None)
        assert states["004"][0] == states["034"][0] == "sent"

    def test_ref2_is_unique_across_all_files(self, env: PaymentEnv) -> None:
        first = env.approve(factories.spec_cases())
        second = env.approve(factories.spec_cases())
        refs = []
        for batch_id in (first, second):
            for group in ("ktb", "other"):
                r = download(env, batch_id, f"{group}.txt")
                refs += [DETAIL.parse(rec)["ref2"] for rec in records(r.data)[1:]]
        assert len(refs) == 6
        assert len(set(refs)) == 6
        assert all(len(ref) <= 18 and ref.isascii() for ref in refs)

    def test_effective_date_default_and_refusal_of_the_past(self, env: PaymentEnv, tomorrow: dt.date) -> None:
        batch_id = env.approve(factories.spec_cases())
        past = (tomorrow - dt.timedelta(days=5)).isoformat()
        r = download(env, batch_id, "ktb.txt", f"?effective_date={past}")
        assert r.status_code == 422
        assert r.json["error"]["code"] == "effective_date_in_past"
        r = download(env, batch_id, "ktb.txt")
        assert r.status_code == 200
        header = HEADER.parse(records(r.data)[0])
        offset = env.settings.effective_date_offset_days
        expected = env.settings.today() + dt.timedelta(days=offset)
        assert header["effective_date"] == expected.strftime("%d%m%Y")
        other = (expected + dt.timedelta(days=3)).isoformat()
        assert download(env, batch_id, "ktb.txt", f"?effective_date={other}").status_code == 409

    def test_a_line_breaking_a_rule_is_reported_and_nothing_is_made(self, env: PaymentEnv) -> None:
        cases = [factories.case(name="O’Brien Smith"), factories.case()]
        batch_id = env.approve(cases)
        r = download(env, batch_id, "other.txt")
        assert r.status_code == 422
        assert r.json["error"]["code"] == "lines_invalid"
        problems = r.json["error"]["problems"]
        assert [(p["label"], p["field"], p["code"]) for p in problems] == [
            (cases[0]["case_no"], "account_name", "unsupported_character")
        ]
        assert "U+2019" in problems[0]["message"]
        with env.sessions() as s:
            assert (
                s.scalar(
                    select(func.count()).select_from(PaymentFile).where(PaymentFile.batch_id == batch_id)
                )
                == 0
            )
            states = s.scalars(select(PayoutLine.state).where(PayoutLine.batch_id == batch_id)).all()
            assert set(states) == {"pending"}
        line_id = detail(env, batch_id)["lines"][0]["id"]
        fixed = env.client().patch(
            f"/api/payment/lines/{line_id}/bank",
            json={
                "bank_code": "004",
                "account_name": "O'Brien Smith",
                "account_no": cases[0]["bank"]["account_no"],
            },
            headers=env.headers(),
        )
        assert fixed.status_code == 200
        assert download(env, batch_id, "other.txt").status_code == 200

    def test_nothing_outstanding_is_409(self, env: PaymentEnv) -> None:
        batch_id = env.approve([factories.case(bank_code="004")])
        r = download(env, batch_id, "ktb.txt")
        assert r.status_code == 409
        assert r.json["error"]["code"] == "nothing_outstanding"

    def test_cancelled_file_releases_its_lines_for_a_new_file_with_new_refs(self, env: PaymentEnv) -> None:
        batch_id = env.approve(factories.spec_cases())
        first = download(env, batch_id, "other.txt")
        file_id = first.headers["X-Payment-File-Id"]
        c = env.client()
        r = c.post(
            f"/api/payment/files/{file_id}/cancel", json={"reason": "ไฟล์ส่งธนาคารไม่ได้"}, headers=env.headers()
        )
        assert r.status_code == 200
        assert r.json["status"] == "cancelled"
        assert {line["state"] for line in detail(env, batch_id)["lines"] if line["bank_code"] != "006"} == {
            "pending"
        }
        second = download(env, batch_id, "other.txt")
        assert second.headers["X-Payment-File-Id"] != file_id
        old = {DETAIL.parse(x)["ref2"] for x in records(first.data)[1:]}
        new = {DETAIL.parse(x)["ref2"] for x in records(second.data)[1:]}
        assert not old & new
        again = c.post(f"/api/payment/files/{file_id}/cancel", json={"reason": "x"}, headers=env.headers())
        assert again.status_code == 409
        old_file = c.get(f"/api/payment/files/{file_id}.txt", headers=env.headers())
        assert old_file.data == first.data  # a cancelled file can still be read back


class TestLines:
    def test_correction_is_audited_published_and_refused_while_sent(self, env: PaymentEnv) -> None:
        batch_id = env.approve([factories.case(bank_code="004", account_no="1112223334")])
        line_id = detail(env, batch_id)["lines"][0]["id"]
        c = env.client()
        bad = c.patch(
            f"/api/payment/lines/{line_id}/bank",
            json={"bank_code": "034", "account_name": "นายทดสอบ", "account_no": "020012345678"},
            headers=env.headers(),
        )
        assert bad.status_code == 400
        assert bad.json["error"]["fields"] == {"branch_code": "ธ.ก.ส. ต้องระบุรหัสสาขา"}
        ok = c.patch(
            f"/api/payment/lines/{line_id}/bank",
            json={"bank_code": "014", "account_name": "นายทดสอบ แก้ไข", "account_no": "222-3-33444-5"},
            headers=env.headers(),
        )
        assert ok.status_code == 200
        assert (ok.json["bank_code"], ok.json["account_no"], ok.json["state"]) == (
            "014",
            "2223334445",
            "pending",
        )
        corrected = [
            p for p in outbox(env, "payout.bank_details_corrected") if p["bank"]["account_no"] == "2223334445"
        ]
        assert corrected[0]["bank"] == {
            "bank_code": "014",
            "branch_code": None,
            "account_name": "นายทดสอบ แก้ไข",
            "account_no": "2223334445",
        }
        with env.sessions() as s:
            entry = s.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "payout_line.correct_bank", AuditEntry.object_id == str(line_id)
                )
            ).one()
            assert entry.before["account_no"] == "xxxxxx3334"  # masked in the audit log
            assert entry.after["account_no"] == "xxxxxx4445"
        assert download(env, batch_id, "other.txt").status_code == 200
        sent = c.patch(
            f"/api/payment/lines/{line_id}/bank",
            json={"bank_code": "014", "account_name": "x", "account_no": "2223334445"},
            headers=env.headers(),
        )
        assert sent.status_code == 409

    def test_close_failed_publishes_a_final_failure(self, env: PaymentEnv) -> None:
        batch_id = env.approve(factories.spec_cases())
        line = detail(env, batch_id)["lines"][0]
        r = env.client().post(
            f"/api/payment/lines/{line['id']}/close-failed", json={"reason": "บัญชีถูกปิด"}, headers=env.headers()
        )
        assert r.status_code == 200
        assert (r.json["state"], r.json["close_reason"]) == ("closed_failed", "บัญชีถูกปิด")
        failed = [p for p in outbox(env, "payout.failed") if p["case_id"] == line["case_id"]]
        assert failed
        assert failed[0]["final"] is True
        again = env.client().post(
            f"/api/payment/lines/{line['id']}/close-failed", json={"reason": "x"}, headers=env.headers()
        )
        assert again.status_code == 409
        missing = env.client().post(
            f"/api/payment/lines/{line['id']}/close-failed", json={}, headers=env.headers()
        )
        assert missing.status_code == 400
        assert missing.json["error"]["fields"] == {"reason": "กรุณากรอกข้อมูลช่องนี้"}


class TestSettle:
    def test_settle_is_409_until_every_line_is_final_then_publishes(self, env: PaymentEnv) -> None:
        batch_id = env.approve([factories.case(), factories.case()])
        c = env.client()
        r = c.post(f"/api/payment/batches/{batch_id}/settle", headers=env.headers())
        assert r.status_code == 409
        assert r.json["error"]["code"] == "lines_outstanding"
        review = c.get(f"/api/payment/batches/{batch_id}/review", headers=env.headers()).json
        assert (review["can_settle"], review["outstanding_count"]) == (False, 2)
        lines = detail(env, batch_id)["lines"]
        download(env, batch_id, "other.txt")
        refs = {line["id"]: line["ref2"] for line in detail(env, batch_id)["lines"]}
        report = factories.result_csv(
            [
                {
                    "ref2": refs[line["id"]],
                    "account_no": line["account_no"],
                    "amount": "3000.00",
                    "status": status,
                    "bank_code": "004",
                }
                for line, status in zip(lines, ("SUCCESS", "FAILED"), strict=True)
            ]
        )
        up = c.post(
            f"/api/payment/batches/{batch_id}/results",
            data={"file": (io.BytesIO(report), "r.csv")},
            headers=env.headers(),
        )
        assert up.status_code == 202
        env.run_imports()
        closed = c.post(
            f"/api/payment/lines/{lines[1]['id']}/close-failed", json={"reason": "x"}, headers=env.headers()
        )
        assert closed.status_code == 200
        assert (
            c.post(
                f"/api/payment/lines/{lines[1]['id']}/close-failed",
                json={"reason": "x"},
                headers=env.headers(),
            ).status_code
            == 409
        )
        review = c.get(f"/api/payment/batches/{batch_id}/review", headers=env.headers()).json
        assert (review["can_settle"], review["paid_count"], review["paid_total"], review["closed_count"]) == (
            True,
            1,
            "3000.00",
            1,
        )
        r = c.post(f"/api/payment/batches/{batch_id}/settle", headers=env.headers("head"))
        assert r.status_code == 200
        assert r.json["status"] == "settled"
        settled = [p for p in outbox(env, "batch.settled") if p["payout_batch_id"] == str(batch_id)]
        assert len(settled) == 1
        assert (settled[0]["paid_count"], settled[0]["paid_total"], settled[0]["closed_count"]) == (
            1,
            "3000.00",
            1,
        )
        assert c.post(f"/api/payment/batches/{batch_id}/settle", headers=env.headers()).status_code == 409
        assert download(env, batch_id, "other.txt").status_code == 409


class TestUploadChecks:
    def upload(self, env: PaymentEnv, batch_id: int, data: bytes, name: str) -> Any:
        return env.client().post(
            f"/api/payment/batches/{batch_id}/results",
            data={"file": (io.BytesIO(data), name)},
            headers=env.headers(),
        )

    def test_wrong_type_is_415_and_nothing_is_stored(self, env: PaymentEnv) -> None:
        batch_id = env.approve(factories.spec_cases())
        r = self.upload(env, batch_id, b"%PDF-1.4\n...", "report.pdf")
        assert r.status_code == 415
        r = self.upload(env, batch_id, b"%PDF-1.4\n...", "report.csv")
        assert r.status_code == 415
        assert "PDF" in r.json["error"]["message"]
        r = env.client().get(f"/api/payment/batches/{batch_id}/result-imports", headers=env.headers())
        assert r.json["total"] == 0

    def test_over_the_size_limit_is_413(self, env: PaymentEnv, monkeypatch: pytest.MonkeyPatch) -> None:
        batch_id = env.approve(factories.spec_cases())
        small = replace(env.settings, limits=replace(env.settings.limits, max_bytes=100))
        monkeypatch.setitem(env.app.extensions, "payment_settings", small)
        r = self.upload(
            env, batch_id, b"ref2,account_no,amount,status\n" + b"R,1112223334,1.00,SUCCESS\n" * 10, "r.csv"
        )
        assert r.status_code == 413

    def test_missing_file_is_400(self, env: PaymentEnv) -> None:
        batch_id = env.approve(factories.spec_cases())
        r = env.client().post(f"/api/payment/batches/{batch_id}/results", data={}, headers=env.headers())
        assert r.status_code == 400
        assert "file" in r.json["error"]["fields"]

    def test_our_own_payment_file_is_not_a_result_report(self, env: PaymentEnv) -> None:
        batch_id = env.approve(factories.spec_cases())
        txt = download(env, batch_id, "other.txt").data
        r = self.upload(env, batch_id, txt, "KTB_STD.txt")
        assert r.status_code == 422
        assert r.json["error"]["code"] == "own_payment_file"


def test_openapi_documents_the_payment_endpoints(env: PaymentEnv) -> None:
    doc = env.client().get("/api/payment/openapi.json").json
    for path in (
        "/api/payment/batches",
        "/api/payment/batches/{batch_id}",
        "/api/payment/batches/{batch_id}/results",
        "/api/payment/result-imports/{import_id}",
        "/api/payment/lines/{line_id}/bank",
        "/api/payment/batches/{batch_id}/settle",
    ):
        assert path in doc["paths"], path
