"""จ่ายเงินประชาชน in a real browser: files, the bank's results, a correction and settlement.

The payout batch comes from the real flow through the JSON API on the gateway: officer.1008
records two cases (manual §6: a disabled child with the kindergarten support at KTB, an adult
with the career fund at another bank), head.1008 closes the agenda into an approval batch, and
the payment service builds the payout batch from ``batch.approved``.  Then finance.1008 works the
batch in Chromium: both file groups downloaded (bytes checked), a result in which one payee
failed, the failed payee's bank details corrected, the next file (new ref2), a second result, and
settlement.  Another district's finance officer sees none of it.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import requests

from shared.testing.system import wait_for
from tests.intake.support import case_body, house_id
from tests.payment.factories import result_csv

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
PASSWORD = "ecase-demo-2566"
BAAC_ACCOUNT = "020123456789"  # 12 digits, as BAAC numbers accounts


def today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Asia/Bangkok")).date()


class Client:
    """One demo user on the gateway's JSON API (bearer token)."""

    def __init__(self, base_url: str, username: str) -> None:
        self.base_url = base_url
        r = requests.post(
            f"{base_url}/api/auth/token", json={"username": username, "password": PASSWORD}, timeout=30
        )
        assert r.status_code == 200, r.text
        self.headers = {"Authorization": f"Bearer {r.json()['access_token']}"}

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{self.base_url}{path}", headers=self.headers, timeout=60, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        r = self.call("GET", path, **kwargs)
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture(scope="module")
def payout(live: Any) -> dict[str, Any]:
    """Two recorded cases, approved by head.1008, as finance.1008's payout batch."""
    officer = Client(live.base_url, "officer.1008")
    head = Client(live.base_url, "head.1008")
    finance = Client(live.base_url, "finance.1008")
    child = case_body(
        title="เด็กชาย",
        sex="male",
        first_name="ทดสอบหนึ่ง",
        last_name="ใจดี",
        birth_date=(today() - dt.timedelta(days=365 * 7 + 30)).isoformat(),
        disabled=True,
        welfare_type_code="KINDERGARTEN",
        amount="3000.00",
        hardship="เด็กพิการ ครอบครัวรายได้น้อย",
        # A typographic apostrophe pasted into the name: intake takes it, KTB's file may not (§9).
        bank={"bank_code": "006", "account_name": "นายสมชาย ใจดี\u2019", "account_no": "1234567890"},
    )
    adult = case_body(
        title="นาง",
        first_name="ทดสอบสอง",
        last_name="มีสุข",
        welfare_type_code="CAREER",
        house_id=house_id(),
        amount="5000.00",
        hardship="ตกงาน ต้องการทุนประกอบอาชีพ",
        bank={"bank_code": "014", "account_name": "นางทดสอบสอง มีสุข", "account_no": "9876543210"},
    )
    cases = []
    for body in (child, adult):
        r = officer.call("POST", "/api/intake/cases", json=body)
        assert r.status_code == 201, r.text
        cases.append(r.json())
    wait_for(
        lambda: head.get("/api/approval/agenda")["count"] == 2, timeout=60, interval=0.3, what="the agenda"
    )
    r = head.call("POST", "/api/approval/batches", json={"meeting_date": today().isoformat()})
    assert r.status_code == 202, r.text
    closing = r.json()
    job = wait_for(
        lambda: (j := head.get(f"/api/jobs/{closing['job_id']}"))["status"] in ("done", "failed") and j,
        timeout=120,
        interval=0.3,
        what="the approval batch",
    )
    assert job["status"] == "done", job

    def payout_batch() -> dict[str, Any] | None:
        items = finance.get("/api/payment/batches")["items"]
        return next((b for b in items if b["approval_batch_id"] == str(closing["batch_id"])), None)

    batch = wait_for(payout_batch, timeout=120, interval=0.3, what="the payout batch")
    assert (batch["line_count"], batch["total_amount"]) == (2, "8000.00")
    return {"batch": batch, "cases": cases, "finance": finance}


def lines_by_bank(finance: Client, batch_id: int) -> dict[str, dict[str, Any]]:
    """The batch's lines as finance sees them over the API (full account numbers, ref2s)."""
    return {line["bank_code"]: line for line in finance.get(f"/api/payment/batches/{batch_id}")["lines"]}


def download(page: Any, selector: str) -> tuple[str, bytes]:
    with page.expect_download() as info:
        page.click(selector)
    d = info.value
    path = d.path()
    assert path is not None, d.failure()
    with open(path, "rb") as f:
        return d.suggested_filename, f.read()


def upload_result(page: Any, name: str, data: bytes) -> int:
    """Upload a result report on the batch page; return the import id of the page it leads to."""
    page.set_input_files(
        "section[data-upload] input[name=file]",
        files=[{"name": name, "mimeType": "text/csv", "buffer": data}],
    )
    with page.expect_navigation():
        page.click("section[data-upload] button[type=submit]")
    match = re.search(r"/payments/imports/(\d+)", page.url)
    assert match, page.url
    return int(match.group(1))


def xlsx_values(data: bytes) -> list[str]:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    return [str(v) for row in book.active.iter_rows(values_only=True) for v in row if v is not None]


def test_finance_pays_a_batch_from_files_to_settlement(
    payout: dict[str, Any], page_as: Any, shot: Any
) -> None:
    batch, finance = payout["batch"], payout["finance"]
    page = page_as("finance.1008")

    # The list: the open batch with its counts, total and paid total.
    page.click("nav.menu >> text=จ่ายเงินประชาชน")
    page.wait_for_url("**/payments/")
    row = page.locator(f"tr[data-batch='{batch['id']}']")
    assert "8,000.00" in row.inner_text()
    assert row.locator("td[data-state=pending]").inner_text() == "2"
    shot(page, "batches")

    # The batch: lines with masked accounts and Thai states; both file groups offered.
    row.locator("text=แสดงรายการ").click()
    page.wait_for_url(f"**/payments/batches/{batch['id']}")
    lines = page.locator("table[data-lines] tbody tr")
    assert lines.count() == 2
    text = page.locator("table[data-lines]").inner_text()
    assert "xxxxxx7890" in text
    assert "xxxxxx3210" in text
    assert "1234567890" not in text
    assert "9876543210" not in text
    assert text.count("รอจัดทำไฟล์") == 2
    assert "ทดสอบหนึ่ง" in text
    assert "3,000.00" in text
    assert "5,000.00" in text
    shot(page, "batch")

    # A past effective date is refused by the service and said on the page (the browser's own
    # min= check is taken away to reach the server, as an old browser would).
    ktb = "section[data-downloads] div[data-group=ktb]"
    yesterday = (today() - dt.timedelta(days=1)).isoformat()
    page.eval_on_selector(f"{ktb} input[name=effective_date]", "el => el.removeAttribute('min')")
    page.fill(f"{ktb} input[name=effective_date]", yesterday)
    page.click(f"{ktb} button[data-format=txt]")
    refusal = page.locator("#download-result-ktb .flash.error")
    refusal.wait_for()
    assert "ต้องไม่ก่อนวันนี้" in refusal.inner_text()
    y = today() - dt.timedelta(days=1)
    assert f"{y.day:02d}/{y.month:02d}/{y.year + 543}" in page.inner_text(f"{ktb} [data-be-date]")
    shot(page, "effective-date-refused")

    # A line that breaks the bank's rules refuses the whole file: every problem is listed, with
    # a link to correct that payee.
    page.fill(f"{ktb} input[name=effective_date]", today().isoformat())
    page.click(f"{ktb} button[data-format=txt]")
    problems = page.locator("#download-result-ktb table[data-problems]")
    problems.wait_for()
    assert payout["cases"][0]["case_no"] in problems.inner_text()
    assert "ชื่อบัญชี" in problems.inner_text()
    assert "จัดทำไฟล์ไม่ได้" in page.inner_text("#download-result-ktb .flash.error")
    shot(page, "file-refused-lines-invalid")
    problems.locator("a:has-text('แก้ไข')").click()
    form = "form[data-bank-form]"
    assert page.input_value(f"{form} input[name=account_no]") == "1234567890"
    page.fill(f"{form} input[name=account_name]", "นายสมชาย ใจดี")
    with page.expect_navigation():
        page.click(f"{form} button[type=submit]")
    assert "แก้ไขข้อมูลบัญชี" in page.locator(".flash.ok").inner_text()

    # KTB payees ("Direct"): the text file, cp874 with CR LF after every 498-byte record.
    name, txt = download(page, f"{ktb} button[data-format=txt]")
    assert re.fullmatch(r"KTB_DIRECT_B\d+_F\d+_\d{8}\.txt", name), name
    assert txt.endswith(b"\r\n")
    assert txt.count(b"\r\n") == 2
    assert all(len(record) == 498 for record in txt.split(b"\r\n")[:-1])
    assert "นายสมชาย ใจดี" in txt.decode("cp874")
    assert today().strftime("%Y%m%d") in name  # the effective date chosen on the page
    page.locator("#download-result-ktb [data-downloaded]").wait_for()

    # Other banks ("Standard"): the Excel register, a zip workbook.
    other = "section[data-downloads] div[data-group=other]"
    name, xlsx = download(page, f"{other} button[data-format=xlsx]")
    assert re.fullmatch(r"KTB_STD_B\d+_F\d+_\d{8}\.xlsx", name), name
    assert xlsx[:2] == b"PK"
    assert "xl/workbook.xml" in zipfile.ZipFile(io.BytesIO(xlsx)).namelist()
    shot(page, "files-downloaded")

    # The lines are now in the files, with their ref2s (the files carry the same ones).
    page.reload()
    assert page.locator("table[data-lines]").inner_text().count("รอผลการโอน") == 2
    assert page.locator("section[data-files] tbody tr").count() == 2
    sent = lines_by_bank(finance, batch["id"])
    assert sent["006"]["ref2"].encode() in txt
    assert sent["014"]["ref2"] in xlsx_values(xlsx)
    assert "9876543210" in xlsx_values(xlsx)
    shot(page, "files-listed")

    # Not a result report: refused at once, on the batch page, and nothing is imported.
    page.set_input_files(
        "section[data-upload] input[name=file]",
        files=[{"name": "result.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF\n"}],
    )
    page.click("section[data-upload] button[type=submit]")
    page.wait_for_selector("section[data-upload] .flash.error")
    assert page.locator("section[data-imports] tbody tr").count() == 0
    shot(page, "upload-refused")

    # A report the worker cannot read (a row cut short) is rejected whole, with the line named.
    cut = result_csv([{**_report_row(sent["006"]), "status": "SUCCESS"}]) + b"WF999999-000001,006\r\n"
    import_id = upload_result(page, "cut.csv", cut)
    page.wait_for_selector("[data-import-status=rejected]", timeout=90_000)
    assert "3" in page.inner_text("[data-import-status=rejected] table")
    assert lines_by_bank(finance, batch["id"])["006"]["state"] == "sent"
    shot(page, "import-rejected")
    page.goto(f"/payments/batches/{batch['id']}")

    # The bank's first result: the KTB payee paid, the other payee failed.
    first = result_csv(
        [
            {**_report_row(sent["006"]), "status": "SUCCESS"},
            {**_report_row(sent["014"]), "status": "FAILED", "reason_text": "ACCOUNT CLOSED"},
        ]
    )
    import_id = upload_result(page, "ktb-result-1.csv", first)
    shot(page, "import-progress")
    page.wait_for_selector("[data-import-status=done]", timeout=90_000)
    assert page.url.endswith(f"/payments/imports/{import_id}")
    summary = page.locator("table[data-summary]")
    assert summary.locator("tr[data-count=paid] td").inner_text() == "1"
    assert summary.locator("tr[data-count=failed] td").inner_text() == "1"
    assert summary.locator("tr[data-count=review] td").inner_text() == "0"
    assert summary.locator("tr[data-count=unknown] td").inner_text() == "0"
    attention = page.locator("section[data-attention]")
    assert "ทดสอบสอง" in attention.inner_text()
    assert "โอนไม่สำเร็จ" in attention.inner_text()
    shot(page, "import-summary")

    # The same file again changes nothing: the summary names the import it duplicates.
    page.goto(f"/payments/batches/{batch['id']}")
    upload_result(page, "ktb-result-1-again.csv", first)
    page.wait_for_selector(f"[data-duplicate-of='{import_id}']")
    shot(page, "duplicate-upload")

    # A later report that contradicts a recorded payment changes nothing and raises an alert,
    # which finance acknowledges on the batch page.
    page.goto(f"/payments/batches/{batch['id']}")
    contradicting = result_csv([{**_report_row(sent["006"]), "status": "FAILED", "reason_text": "LATE"}])
    upload_result(page, "ktb-result-late.csv", contradicting)
    page.wait_for_selector("[data-import-status=done]", timeout=90_000)
    assert page.inner_text("table[data-summary] tr[data-count=contradictions] td") == "1"
    page.click("text=กลับไปชุดจ่ายเงิน >> nth=-1")
    alert = page.locator("section[data-alerts]")
    assert "ขัดแย้ง" in alert.inner_text()
    ktb_row = f"table[data-lines] tr[data-case-no='{sent['006']['case_no']}']"
    assert "จ่ายสำเร็จแล้ว" in page.inner_text(ktb_row)
    shot(page, "alert")
    with page.expect_navigation():
        alert.locator("button:has-text('รับทราบ')").click()
    assert "รับทราบ" in page.locator(".flash.ok").inner_text()
    assert page.locator("section[data-alerts]").count() == 0
    page.goto("/payments/alerts?show=all")
    assert "รับทราบแล้ว" in page.inner_text("table[data-alerts]")
    assert "finance.1008" in page.inner_text("table[data-alerts]")

    # Settling is blocked while a payee failed: the final review list says which.
    page.goto(f"/payments/batches/{batch['id']}/review")
    assert "โอนไม่สำเร็จ" in page.locator("section[data-blocking]").inner_text()
    assert page.locator("button:has-text('บันทึกการจ่ายสำเร็จทั้งหมด')").count() == 0
    shot(page, "review-blocked")

    # Correct the failed payee: BAAC needs a branch and a 12-digit account; a wrong one is
    # refused beside its field and changes nothing.
    page.goto(f"/payments/imports/{import_id}")
    page.click("section[data-attention] a")
    page.select_option(f"{form} select[name=bank_code]", "034")
    assert page.eval_on_selector(f"{form} input[name=branch_code]", "el => el.required")
    page.fill(f"{form} input[name=branch_code]", "0101")
    page.fill(f"{form} input[name=account_no]", "1234567890")
    page.click(f"{form} button[type=submit]")
    error = page.locator("label[data-field=account_no] .field-error")
    error.wait_for()
    assert "12 หลัก" in error.inner_text()
    assert page.input_value(f"{form} select[name=bank_code]") == "034"
    assert lines_by_bank(finance, batch["id"])["014"]["state"] == "failed"
    shot(page, "correction-refused")
    page.fill(f"{form} input[name=account_no]", BAAC_ACCOUNT)
    with page.expect_navigation():
        page.click(f"{form} button[type=submit]")
    assert "แก้ไขข้อมูลบัญชี" in page.locator(".flash.ok").inner_text()
    corrected = page.locator("table[data-lines] tr[data-state=pending]")
    assert "xxxxxxxx6789" in corrected.inner_text()
    assert "ธ.ก.ส." in corrected.inner_text()
    shot(page, "corrected")

    # The next file of the other banks: the corrected payee only, with a new ref2.  A file the
    # bank never processed can be cancelled (with a reason); the next one has new ref2s again.
    download(page, f"{other} button[data-format=txt]")
    cancelled_ref2 = lines_by_bank(finance, batch["id"])["034"]["ref2"]
    assert cancelled_ref2 != sent["014"]["ref2"]
    page.reload()
    page.locator("section[data-files] tbody tr").last.locator("text=ยกเลิกไฟล์").click()
    page.fill("textarea[name=reason]", "ผู้ทำหน้าที่โอนยังไม่ได้นำเข้าโปรแกรม ต้องการแก้วันที่โอน")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert "ยกเลิกไฟล์" in page.locator(".flash.ok").inner_text()
    assert "ยกเลิกแล้ว" in page.locator("section[data-files] tbody tr").last.inner_text()
    name, txt2 = download(page, f"{other} button[data-format=txt]")
    assert name.startswith("KTB_STD_")
    assert txt2.count(b"\r\n") == 2
    resent = lines_by_bank(finance, batch["id"])["034"]
    assert resent["ref2"] != cancelled_ref2
    assert resent["ref2"] != sent["014"]["ref2"]
    assert resent["ref2"].encode() in txt2
    assert sent["014"]["ref2"].encode() not in txt2

    # The second result: paid.
    page.reload()
    second = result_csv([{**_report_row(resent), "status": "SUCCESS"}])
    import_id = upload_result(page, "ktb-result-2.csv", second)
    page.wait_for_selector("[data-import-status=done]", timeout=90_000)
    assert page.locator("table[data-summary] tr[data-count=paid] td").inner_text() == "1"
    shot(page, "second-import-summary")

    # Settle after the final review list.
    page.goto(f"/payments/batches/{batch['id']}")
    page.click("[data-review-link]")
    review = page.locator("table[data-review]").inner_text()
    assert review.count("จ่ายสำเร็จแล้ว") == 2
    assert "8,000.00" in review
    assert page.locator("section[data-blocking]").count() == 0
    shot(page, "review-ready")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("button:has-text('บันทึกการจ่ายสำเร็จทั้งหมด')")
    assert "บันทึกการจ่ายสำเร็จทั้งหมด" in page.locator(".flash.ok").inner_text()
    assert page.locator("[data-batch-status]").get_attribute("data-batch-status") == "settled"
    assert page.locator("[data-paid-total]").inner_text() == "8,000.00"
    assert page.locator("section[data-upload]").count() == 0
    shot(page, "settled")
    assert finance.get(f"/api/payment/batches/{batch['id']}")["status"] == "settled"
    page.goto("/payments/?status=settled")
    assert page.locator(f"tr[data-batch='{batch['id']}']").count() == 1


def _report_row(line: dict[str, Any]) -> dict[str, str]:
    return {
        "ref2": line["ref2"],
        "bank_code": line["bank_code"],
        "account_no": line["account_no"],
        "amount": line["amount"],
    }


def test_another_district_and_other_roles_see_none_of_it(
    payout: dict[str, Any], page_as: Any, shot: Any
) -> None:
    batch_id = payout["batch"]["id"]
    page = page_as("finance.1001")
    page.goto("/payments/?status=all")
    assert page.locator(f"tr[data-batch='{batch_id}']").count() == 0
    for path in (f"/payments/batches/{batch_id}", f"/payments/batches/{batch_id}/review"):
        response = page.goto(path)
        assert response is not None
        assert response.status == 404
        assert "ไม่พบหน้าหรือข้อมูลที่ต้องการ" in page.inner_text("main")
    shot(page, "other-district")
    response = page.goto(f"/api/payment/batches/{batch_id}/files/ktb.txt")
    assert response is not None
    assert response.status == 404

    # The central office reads every district's batches, without the finance actions.
    central = page_as("central.admin")
    central.goto("/payments/?status=all&district_code=1008")
    central.locator(f"tr[data-batch='{batch_id}'] >> text=แสดงรายการ").click()
    assert central.locator("table[data-lines] tbody tr").count() == 2
    assert central.locator("section[data-downloads]").count() == 0
    assert central.locator("section[data-upload]").count() == 0
    shot(central, "central-office")

    # The district's officer follows the batch but changes nothing; the operator sees no payees.
    officer = page_as("officer.1008")
    officer.click("nav.menu >> text=จ่ายเงินประชาชน")
    officer.goto(f"/payments/batches/{batch_id}")
    assert "xxxxxx7890" in officer.inner_text("table[data-lines]")
    assert officer.locator("section[data-downloads], section[data-upload]").count() == 0
    assert officer.locator("main form[method=post]").count() == 0
    token = officer.get_attribute("meta[name=csrf-token]", "content")
    refused = officer.request.post(f"/payments/batches/{batch_id}/settle", form={"csrf_token": token})
    assert refused.status == 403
    shot(officer, "officer-reads")
    operator = page_as("operator")
    assert operator.locator("nav.menu >> text=จ่ายเงินประชาชน").count() == 0
    response = operator.goto("/payments/")
    assert response is not None
    assert response.status == 403
