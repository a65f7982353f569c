"""Importing the bank's result report (spec §8.3; reliability P5–P9), in process on both backends.

The worker's handler (``run_result_import``) is called directly here; tests/payment/e2e runs it
in a real payment worker.
"""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from services.payment.models import FileLine, PaymentAlert, PayoutLine, ResultLine
from tests.payment import factories
from tests.payment.conftest import PaymentEnv

pytestmark = [pytest.mark.integration]


def sent_batch(
    env: PaymentEnv, cases: list[dict[str, Any]] | None = None
) -> tuple[int, dict[str, dict[str, Any]]]:
    """A batch whose files (both groups) were downloaded; lines by bank code."""
    batch_id = env.approve(cases or factories.spec_cases())
    for group in ("ktb", "other"):
        assert env.download(batch_id, f"{group}.txt").status_code in (200, 409)
    lines = {line["case_no"]: line for line in env.batch(batch_id)["lines"]}
    return batch_id, lines


def row(line: dict[str, Any], status: str, **extra: str) -> dict[str, str]:
    return {
        "batch_id": "B",
        "ref2": line["ref2"],
        "bank_code": line["bank_code"],
        "account_no": line["account_no"],
        "amount": line["amount"],
        "status": status,
        **extra,
    }


def imported(env: PaymentEnv, batch_id: int, data: bytes, name: str = "result.csv") -> dict[str, Any]:
    r = env.upload(batch_id, data, name)
    assert r.status_code == 202, r.json
    env.run_imports()
    return env.get_import(r.json["import_id"])


def states(env: PaymentEnv, batch_id: int) -> dict[str, str]:
    return {line["case_no"]: line["state"] for line in env.batch(batch_id)["lines"]}


def test_spec_example_10_5(env: PaymentEnv) -> None:
    """P2 SUCCESS → paid; P3 FAILED → released; P1 (file A) stays until file A's report comes."""
    batch_id, lines = sent_batch(env)
    p1, p2, p3 = lines.values()
    result = imported(
        env,
        batch_id,
        factories.result_csv(
            [row(p2, "SUCCESS", value_date="2026-01-15"), row(p3, "FAILED", reason_text="บัญชีปิดแล้ว")]
        ),
    )
    assert result["status"] == "done"
    assert (result["matched"], result["paid"], result["failed"], result["unmatched"]) == (2, 1, 1, [])
    assert result["reconciliation"][0]["reconciled"] is True
    assert result["reconciliation"][0]["file_total"] == "1800.50"
    got = states(env, batch_id)
    assert (got[p1["case_no"]], got[p2["case_no"]], got[p3["case_no"]]) == ("sent", "paid", "failed")
    paid = [e for e in env.events("payout.paid") if e["case_id"] == p2["case_id"]]
    assert paid == [
        {
            "case_id": p2["case_id"],
            "district_code": "1008",
            "approval_batch_id": paid[0]["approval_batch_id"],
            "amount": "1000.00",
            "paid_at": paid[0]["paid_at"],
            "ref2": p2["ref2"],
        }
    ]
    failed = [e for e in env.events("payout.failed") if e["case_id"] == p3["case_id"]]
    assert (failed[0]["final"], failed[0]["reason"]) == (False, "บัญชีปิดแล้ว")
    # P3 goes into the next file with a new ref2; P1 is not put into another file.
    again = env.download(batch_id, "other.txt")
    assert again.headers["X-Payment-File-Lines"] == "1"
    new_ref = env.batch(batch_id)["lines"][2]["ref2"]
    assert new_ref != p3["ref2"]
    assert env.download(batch_id, "ktb.txt").headers["X-Payment-File-Created"] == "0"


def test_same_file_twice_changes_nothing_and_names_the_original(env: PaymentEnv) -> None:
    batch_id, lines = sent_batch(env)
    _, p2, p3 = lines.values()
    report = factories.result_csv([row(p2, "SUCCESS"), row(p3, "FAILED")])
    first = imported(env, batch_id, report)
    before = states(env, batch_id)
    paid_events = len(env.events("payout.paid"))
    for data in (report, report.replace(b"\r\n", b"\n"), report.replace(b"\r\n", b"  \n")):
        second = env.upload(batch_id, data, "again.csv")
        assert second.status_code == 202
        assert second.json["duplicate_of"] == first["id"]
        assert second.json["status"] == "done"
        assert env.get_import(second.json["import_id"])["duplicate_of"] == first["id"]
    env.run_imports()
    assert states(env, batch_id) == before
    assert len(env.events("payout.paid")) == paid_events


def test_report_contradicting_a_final_outcome_raises_an_alert(env: PaymentEnv) -> None:
    batch_id, lines = sent_batch(env)
    _, p2, p3 = lines.values()
    imported(env, batch_id, factories.result_csv([row(p2, "SUCCESS"), row(p3, "FAILED")]))
    later = imported(
        env, batch_id, factories.result_csv([row(p2, "FAILED", reason_text="คืนเงิน"), row(p3, "FAILED")])
    )
    assert (later["contradictions"], later["duplicates"], later["paid"], later["failed"]) == (1, 1, 0, 0)
    assert states(env, batch_id)[p2["case_no"]] == "paid"
    alerts = env.client().get(f"/api/payment/alerts?batch_id={batch_id}", headers=env.headers()).json
    assert len(alerts) == 1
    assert p2["case_no"] in alerts[0]["message"]
    ack = env.client().post(f"/api/payment/alerts/{alerts[0]['id']}/acknowledge", headers=env.headers())
    assert ack.status_code == 200
    assert ack.json["acknowledged_by"] == "finance.1008"
    assert env.client().get(f"/api/payment/alerts?batch_id={batch_id}", headers=env.headers()).json == []


def test_one_malformed_line_posts_nothing(env: PaymentEnv) -> None:
    batch_id, lines = sent_batch(env)
    _, p2, p3 = lines.values()
    bad = factories.result_csv([row(p2, "SUCCESS"), row(p3, "FAILED", amount="800,50")])
    before = states(env, batch_id)
    result = imported(env, batch_id, bad)
    assert result["status"] == "rejected"
    assert result["errors"][0]["line"] == 3
    assert "บรรทัดที่ 3" in result["errors"][0]["message"]
    assert states(env, batch_id) == before
    job = env.client().get(f"/api/payment/jobs/{result['job_id']}", headers=env.headers()).json
    assert job["status"] == "failed"
    with env.sessions() as s:
        assert (
            s.scalar(select(func.count()).select_from(ResultLine).where(ResultLine.import_id == result["id"]))
            == 0
        )
    # the corrected file is then accepted (a rejected file does not count as imported)
    good = imported(env, batch_id, factories.result_csv([row(p2, "SUCCESS"), row(p3, "FAILED")]))
    assert good["duplicate_of"] is None
    assert good["paid"] == 1


def test_mismatch_or_unclear_status_goes_to_review_never_paid(env: PaymentEnv) -> None:
    batch_id, lines = sent_batch(env)
    p1, p2, p3 = lines.values()
    result = imported(
        env,
        batch_id,
        factories.result_csv(
            [
                row(p1, "SUCCESS", amount="600.01"),
                row(p2, "SUCCESS", account_no="1112223339"),
                row(p3, "รอดำเนินการ"),
            ]
        ),
    )
    assert (result["review"], result["paid"]) == (3, 0)
    got = env.batch(batch_id)["lines"]
    assert {line["state"] for line in got} == {"review"}
    assert "จำนวนเงินไม่ตรง" in got[0]["last_outcome"]
    assert "เลขที่บัญชีไม่ตรง" in got[1]["last_outcome"]
    assert env.events("payout.paid") == [
        e for e in env.events("payout.paid") if e["case_id"] not in {p1["case_id"]}
    ]
    # a line in review is never put into another file
    assert env.download(batch_id, "ktb.txt").headers["X-Payment-File-Created"] == "0"
    # finance checks with the bank and decides
    c = env.client()
    r = c.post(
        f"/api/payment/lines/{got[0]['id']}/resolve",
        json={"decision": "paid", "reason": "ตรวจกับ statement แล้ว"},
        headers=env.headers(),
    )
    assert r.status_code == 200
    assert r.json["state"] == "paid"
    r = c.post(
        f"/api/payment/lines/{got[1]['id']}/resolve",
        json={"decision": "failed", "reason": "บัญชีผิด"},
        headers=env.headers(),
    )
    assert r.json["state"] == "failed"
    assert (
        c.post(
            f"/api/payment/lines/{got[0]['id']}/resolve",
            json={"decision": "failed", "reason": "x"},
            headers=env.headers(),
        ).status_code
        == 409
    )


def test_unknown_references_are_listed_and_applied_lines_still_post(env: PaymentEnv) -> None:
    batch_id, lines = sent_batch(env)
    _, p2, p3 = lines.values()
    result = imported(
        env,
        batch_id,
        factories.result_csv(
            [
                row(p2, "SUCCESS"),
                {**row(p3, "SUCCESS"), "ref2": "WF999999-000001"},
                {**row(p3, "FAILED"), "ref2": "NOPE"},
            ]
        ),
    )
    assert (result["paid"], result["unknown"], result["matched"]) == (1, 2, 1)
    assert [u["ref2"] for u in result["unmatched"]] == ["WF999999-000001", "NOPE"]
    assert result["unmatched"][0]["account_no"].startswith("x")  # masked
    assert (
        result["lines"]
        == result["paid"]
        + result["failed"]
        + result["review"]
        + result["duplicates"]
        + result["contradictions"]
        + result["unknown"]
        + result["ambiguous"]
    )
    assert [n["ref2"] for n in result["not_in_report"]] == [p3["ref2"]]
    assert result["reconciliation"][0]["reconciled"] is False


def test_matching_by_running_number_and_by_account_and_amount(env: PaymentEnv) -> None:
    cases = [
        factories.case(amount="100.00"),
        factories.case(amount="200.00"),
        factories.case(amount="300.00"),
    ]
    batch_id, lines = sent_batch(env, cases)
    a, b, c = lines.values()
    file_id = env.batch(batch_id)["files"][0]["id"]
    data = factories.result_csv(
        [
            {
                "batch_id": f"KTB_STD_B{batch_id}_F{file_id}",
                "running_no": "1",
                "bank_code": "004",
                "account_no": a["account_no"],
                "amount": "100.00",
                "status": "SUCCESS",
            },
            {"bank_code": "004", "account_no": b["account_no"], "amount": "200.00", "status": "SUCCESS"},
            {
                "running_no": "3",
                "bank_code": "004",
                "account_no": c["account_no"],
                "amount": "300.00",
                "status": "FAILED",
            },
        ]
    )
    result = imported(env, batch_id, data)
    assert (result["paid"], result["failed"], result["unknown"]) == (2, 1, 0)
    with env.sessions() as s:
        matched = s.scalars(
            select(ResultLine.matched_by)
            .where(ResultLine.import_id == result["id"])
            .order_by(ResultLine.line_no)
        ).all()
    assert matched == ["running_no", "account_amount", "running_no"]


def test_ktb_report_as_xlsx_with_title_rows(env: PaymentEnv) -> None:
    batch_id, lines = sent_batch(env)
    _, p2, p3 = lines.values()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["รายงานผลการโอนเงิน"])
    ws.append(["Company ID", "TESTCO0001"])
    ws.append([])
    ws.append(
        [
            "ลำดับ",
            "Reference No./ DDA Ref 2",
            "Receiving Bank Code",
            "Receiving A/C No.",
            "Transfer Amount",
            "Status",
            "Remark",
        ]
    )
    ws.append([1, p2["ref2"], "004", p2["account_no"], 1000, "Success", None])
    ws.append([2, p3["ref2"], "034", p3["account_no"], 800.5, "Fail", "Account closed"])
    ws.append([None, None, None, "Total", 1800.5, None, None])
    buffer = io.BytesIO()
    wb.save(buffer)
    result = imported(env, batch_id, buffer.getvalue(), "KTB result.xlsx")
    assert (result["status"], result["shape"], result["paid"], result["failed"]) == (
        "done",
        "ktb_report",
        1,
        1,
    )


def test_zip_bomb_upload_is_refused_before_anything_is_stored(env: PaymentEnv) -> None:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (16 * 1024 * 1024))
    batch_id, _ = sent_batch(env)
    r = env.upload(batch_id, buffer.getvalue(), "bomb.xlsx")
    assert r.status_code == 413
    assert r.json["error"]["code"] == "zip_bomb"
    assert (
        env.client()
        .get(f"/api/payment/batches/{batch_id}/result-imports", headers=env.headers())
        .json["total"]
        == 0
    )


def test_a_failed_payee_corrected_goes_into_the_next_file_with_a_new_ref2(env: PaymentEnv) -> None:
    batch_id, lines = sent_batch(env)
    _, p2, p3 = lines.values()
    imported(
        env, batch_id, factories.result_csv([row(p2, "SUCCESS"), row(p3, "FAILED", reason_text="เลขบัญชีผิด")])
    )
    r = env.client().patch(
        f"/api/payment/lines/{p3['id']}/bank",
        json={
            "bank_code": "034",
            "branch_code": "4321",
            "account_name": "MR JOHN SMITH",
            "account_no": "020012345699",
        },
        headers=env.headers(),
    )
    assert r.status_code == 200
    txt = env.download(batch_id, "other.txt")
    assert txt.headers["X-Payment-File-Lines"] == "1"
    record = txt.data.decode("cp874").split("\r\n")[1]
    from services.payment.ktb import DETAIL

    fields = DETAIL.parse(record)
    assert (fields["recv_branch"], fields["recv_acct"]) == ("4321", "20012345699")
    assert fields["ref2"] != p3["ref2"]
    # the bank now pays the corrected transfer
    line = env.batch(batch_id)["lines"][2]
    result = imported(
        env, batch_id, factories.result_csv([{**row(line, "SUCCESS"), "account_no": "20012345699"}])
    )
    assert result["paid"] == 1
    # a late report of the first transfer saying SUCCESS must not pay the payee twice
    late = imported(env, batch_id, factories.result_csv([row(p3, "SUCCESS")]))
    assert (late["paid"], late["contradictions"]) == (0, 1)
    with env.sessions() as s:
        alerts = s.scalars(select(PaymentAlert).where(PaymentAlert.batch_id == batch_id)).all()
        assert len(alerts) == 1


class TestPaidAtMostOnce:
    """The database itself refuses a second payment (reliability P1)."""

    def test_a_case_is_in_one_payout_line_ever(self, env: PaymentEnv) -> None:
        case = factories.case()
        env.approve([case])
        second = env.approve([case, factories.case()])
        body = env.batch(second)
        assert len(body["lines"]) == 1
        assert "จ่ายได้ครั้งเดียว" in body["alerts"][0]["message"]
        with env.sessions() as s:
            line = s.scalars(select(PayoutLine).where(PayoutLine.case_id == case["case_id"])).one()
        with pytest.raises(IntegrityError), env.sessions.begin() as s:
            s.add(
                PayoutLine(
                    batch_id=second,
                    case_id=case["case_id"],
                    case_no="dup",
                    district_code="1008",
                    payee_name="x",
                    account_name="x",
                    bank_code="004",
                    account_no=line.account_no,
                    amount_satang=1,
                    state="pending",
                )
            )

    def test_two_transfers_of_one_payee_cannot_both_be_paid(self, env: PaymentEnv) -> None:
        batch_id, lines = sent_batch(env)
        _, p2, _ = lines.values()
        imported(env, batch_id, factories.result_csv([row(p2, "SUCCESS")]))
        with env.sessions() as s:
            paid = s.scalars(select(FileLine).where(FileLine.ref2 == p2["ref2"])).one()
        with pytest.raises(IntegrityError), env.sessions.begin() as s:
            s.add(
                FileLine(
                    file_id=paid.file_id,
                    line_id=paid.line_id,
                    running_no=999,
                    ref2="WF-TEST-DUP",
                    amount_satang=paid.amount_satang,
                    bank_code=paid.bank_code,
                    account_no=paid.account_no,
                    recv_branch=paid.recv_branch,
                    recv_account=paid.recv_account,
                    receiver_name=paid.receiver_name,
                    outcome="paid",
                )
            )

    def test_paid_marker_goes_with_the_paid_state(self, env: PaymentEnv) -> None:
        batch_id = env.approve([factories.case()])
        with pytest.raises(IntegrityError), env.sessions.begin() as s:  # noqa: PT012 - the commit raises
            line = s.scalars(select(PayoutLine).where(PayoutLine.batch_id == batch_id)).one()
            line.state = "paid"  # without paid_at
