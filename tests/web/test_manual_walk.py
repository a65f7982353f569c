"""The E-Case manual walked end to end in a real browser (issue #7, "Tests").

Everything is done through the pages, as the manual describes it; the JSON API is never used to
make data.  officer.1008 records the manual's two cases with บันทึกข้อมูลเคส (a disabled child with
the kindergarten support, 3,000 baht, at KTB; an adult with the career fund, 5,000 baht, at another
bank), each with its two PDFs; on the agenda one case is taken off and brought back from the home
page; head.1008 closes the agenda through the confirmation page (2 cases, 8,000.00) and follows the
progress until the batch is approved; finance.1008 downloads both file groups (the bytes are read
by the KTB layout's positions and with openpyxl), uploads a result built from the files' ref2s in
which the other bank's payee failed, follows the import to its summary, corrects that payee's
account, downloads the next file (a new ref2), uploads the second result and settles after the
final review list; both cases then show "จ่ายเงินแล้ว" on their detail pages.  The second test
checks that district 1001's officer, head and finance officer see none of it.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import re
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from playwright.sync_api import expect

from shared.testing.system import wait_for
from shared.thai import age_on, format_be_date, format_national_id
from tests.intake.support import house_id, national_id
from tests.payment.factories import result_csv
from tests.web.test_cases_pages import _pdf

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

BANGKOK = dt.timezone(dt.timedelta(hours=7))
CASE_NO = re.compile(r"Case\d{4}-\d+")
NOT_FOUND = "ไม่พบหน้าหรือข้อมูลที่ต้องการ"
FORBIDDEN = "คุณไม่มีสิทธิ์ใช้งานหน้านี้"
RECORD_LENGTH = 498  # KTB iPay text file: every record, before its CR LF
CORRECTED_ACCOUNT = "5550012345"

#: What the walk leaves for the test of another district (filled by the first test).
STATE: dict[str, Any] = {}


def _today() -> dt.date:
    return dt.datetime.now(BANGKOK).date()


def _people() -> tuple[dict[str, Any], dict[str, Any]]:
    """The manual's two cases (§3): a disabled child at KTB and an adult at another bank (SCB)."""
    rng = random.Random()
    today = _today()
    child = {
        "key": "child",
        "national_id": national_id(rng),
        "title": "เด็กหญิง",
        "sex": "female",
        "first_name": "ใจงาม",
        "last_name": "เดินตามคู่มือ",
        "birth_date": dt.date(today.year - 5, 1, 15),
        "disabled": True,
        "welfare_type_code": "KINDERGARTEN",
        "welfare_type_name": "เงินสนับสนุนกิจกรรมทางการศึกษาระดับอนุบาล",
        "amount": "3000",
        "house_id": "",
        "hardship": "มารดาเลี้ยงดูเพียงลำพัง รายได้ไม่พอค่าใช้จ่ายการศึกษาระดับอนุบาลของบุตรที่พิการ",
        "bank_code": "006",
        "account_name": "นางสายใจ เดินตามคู่มือ",
        "account_no": "1234506789",
    }
    adult = {
        "key": "adult",
        "national_id": national_id(rng),
        "title": "นาย",
        "sex": "male",
        "first_name": "มานะ",
        "last_name": "ขยันยิ่ง",
        "birth_date": dt.date(1975, 3, 15),
        "disabled": False,
        "welfare_type_code": "CAREER",
        "welfare_type_name": "ทุนประกอบอาชีพ",
        "amount": "5000",
        "house_id": house_id(rng),
        "hardship": "ตกงานจากโรงงานปิดกิจการ ต้องการทุนขายอาหารหน้าบ้าน",
        "bank_code": "014",
        "account_name": "นายมานะ ขยันยิ่ง",
        "account_no": "4567801234",
    }
    return child, adult


def _pdf_files(kind: str, who: str) -> list[dict[str, Any]]:
    return [{"name": f"{kind}.pdf", "mimeType": "application/pdf", "buffer": _pdf(f"{who} {kind} documents")}]


def _submit(page: Any, label: str = "ยืนยัน") -> None:
    with page.expect_navigation():
        page.click(f"main button[type=submit]:has-text('{label}')")


def _reload_until(page: Any, path: str, locator: Any, *, timeout: float = 90) -> None:
    """Open a server-rendered page again until ``locator`` is on it (events arrive asynchronously)."""

    def shown() -> bool:
        page.goto(path)
        return bool(locator.count())

    wait_for(shown, timeout=timeout, interval=0.5, what=f"{locator} on {path}")


def _download(page: Any, selector: str) -> tuple[str, bytes]:
    with page.expect_download() as info:
        page.click(selector)
    d = info.value
    path = d.path()
    assert path is not None, d.failure()
    with open(path, "rb") as f:
        return d.suggested_filename, f.read()


def _ktb_text(data: bytes) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A KTB iPay text file read by the spec's positions (§2.2 header, §2.3 details).

    cp874, one byte per character, 498-character records each followed by CR LF; the header's
    count and total (satang) must be those of its details.
    """
    assert data.endswith(b"\r\n")
    records = data.split(b"\r\n")[:-1]
    assert all(len(r) == RECORD_LENGTH for r in records), [len(r) for r in records]
    assert not any(b"\r" in r or b"\n" in r for r in records)
    text = [r.decode("cp874") for r in records]
    h = text[0]
    assert h[0:3] == "101", h[:20]
    header = {
        "count": int(h[12:19]),
        "total_satang": int(h[19:38]),
        "effective_date": h[38:46],
        "company_id": h[55:71].rstrip(),
    }
    details = []
    for t in text[1:]:
        assert t[0:3] == "102", t[:20]
        details.append(
            {
                "bank_code": t[9:12],
                "account": t[16:27],
                "effective_date": t[45:53],
                "satang": int(t[57:74]),
                "receiver_name": t[92:192].rstrip(),
                "ref2": t[352:370].rstrip(),
                "running_no": int(t[392:398]),
            }
        )
    assert header["count"] == len(details)
    assert header["total_satang"] == sum(d["satang"] for d in details)
    assert [d["running_no"] for d in details] == list(range(1, len(details) + 1))
    return header, details


def _xlsx_rows(data: bytes) -> list[dict[str, Any]]:
    """The Excel register's payee rows, by the headings of its heading row."""
    assert data[:2] == b"PK"
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    rows = [list(r) for r in book.active.iter_rows(values_only=True)]
    at = next(i for i, r in enumerate(rows) if "Reference No./ DDA Ref 2" in r)
    headings = rows[at]
    return [dict(zip(headings, r, strict=False)) for r in rows[at + 1 :] if any(v is not None for v in r)]


def _satang(amount: Any) -> int:
    return int(Decimal(str(amount)) * 100)


def _baht(satang: int) -> str:
    return f"{Decimal(satang) / 100:.2f}"


def _upload_result(page: Any, name: str, data: bytes) -> int:
    """Upload a result report on the batch page; return the import id of the page it leads to."""
    page.set_input_files(
        "section[data-upload] input[name=file]",
        files=[{"name": name, "mimeType": "text/csv", "buffer": data}],
    )
    with page.expect_navigation():
        page.click("section[data-upload] button[type=submit]")
    match = re.search(r"/payments/imports/(\d+)(#\w*)?$", page.url)
    assert match, page.url
    return int(match.group(1))


def _record(page: Any, shot: Any, person: dict[str, Any]) -> dict[str, Any]:
    """บันทึกข้อมูลเคส through both steps; returns the recorded case as its detail page shows it."""
    key, nid = person["key"], person["national_id"]
    with page.expect_navigation():
        page.click("nav.menu a:has-text('บันทึกข้อมูลเคส')")
    expect(page.locator("h1")).to_have_text("บันทึกข้อมูลเคส")

    # Step 1: the national-ID check, with the intended request (so the ceilings are checked too).
    check = page.locator("form[data-check-form]")
    check.locator("input[name=national_id]").fill(format_national_id(nid))
    check.locator("details summary").click()
    check.locator("select[name=welfare_type_code]").select_option(person["welfare_type_code"])
    check.locator("input[name=amount]").fill(person["amount"])
    if person["house_id"]:
        check.locator("input[name=house_id]").fill(person["house_id"])
    _submit(page, "ตรวจสอบ")
    history = page.locator("[data-history]")
    expect(history).to_contain_text(format_national_id(nid))
    expect(history.locator("[data-no-history]")).to_be_visible()  # a first request: no earlier case
    shot(page, f"{key}-national-id-checked")

    # Step 2: the case form; what step 1 knew is already filled in.
    _submit(page, "ดำเนินการต่อ")
    expect(page.locator("[data-national-id-shown]")).to_have_text(format_national_id(nid))
    expect(page.locator("select[name=welfare_type_code]")).to_have_value(person["welfare_type_code"])
    expect(page.locator("input[name=amount]")).to_have_value(person["amount"])
    amount = f"{Decimal(person['amount']):,.2f}"
    expect(page.locator("[data-ceiling-hint]")).to_contain_text(amount)
    page.select_option("select[name=title]", person["title"])
    expect(page.locator("select[name=sex]")).to_have_value(person["sex"])  # from the title
    page.fill("input[name=first_name]", person["first_name"])
    page.fill("input[name=last_name]", person["last_name"])
    page.fill("input[name=birth_date]", format_be_date(person["birth_date"]))
    age = age_on(person["birth_date"], _today())
    expect(page.locator("input[data-age]")).to_have_value(str(age))
    if person["house_id"]:
        expect(page.locator("input[name=house_id]")).to_have_value(person["house_id"])
    if person["disabled"]:
        page.check("input[name=disabled]")
    page.fill("textarea[name=hardship]", person["hardship"])
    page.select_option("select[name='bank.bank_code']", person["bank_code"])
    expect(page.locator("[data-bank-code]")).to_have_text(person["bank_code"])
    expect(page.locator("[data-branch-field]")).to_be_hidden()  # neither KTB nor SCB needs a branch
    page.fill("input[name='bank.account_name']", person["account_name"])
    page.fill("input[name='bank.account_no']", person["account_no"])
    page.fill("input[name=phone]", "0812345678")
    page.set_input_files("input[name=related]", files=_pdf_files("related", key))
    page.set_input_files("input[name=financial]", files=_pdf_files("financial", key))
    shot(page, f"{key}-form-filled")
    _submit(page)

    # The detail page: the case number in the flash, both PDFs attached.
    flash = page.locator("p.flash.ok")
    expect(flash).to_contain_text("บันทึกข้อมูลเคสเรียบร้อยแล้ว เลขที่เคส")
    expect(flash).to_contain_text("แนบเอกสารที่เกี่ยวข้อง และเอกสารทางการเงินแล้ว")
    expect(page.locator("p.flash.error")).to_have_count(0)
    match = CASE_NO.search(flash.inner_text())
    assert match, flash.inner_text()
    case = {"case_no": match.group(0), "id": page.url.rstrip("/").rsplit("/", 1)[-1], **person}
    expect(page.locator("[data-case-no]")).to_have_text(case["case_no"])
    expect(page.locator("[data-national-id]")).to_have_text(format_national_id(nid))
    name = f"{person['title']} {person['first_name']} {person['last_name']}"
    expect(page.locator("[data-name]")).to_have_text(name)
    expect(page.locator("[data-birth-date]")).to_have_text(format_be_date(person["birth_date"]))
    expect(page.locator("[data-age]")).to_have_text(str(age))
    expect(page.locator("[data-welfare-type]")).to_have_text(person["welfare_type_name"])
    expect(page.locator("[data-amount]")).to_have_text(amount)
    expect(page.locator("[data-account-no]")).to_have_text(person["account_no"])
    expect(page.locator("main")).to_contain_text("เคสผู้พิการ" if person["disabled"] else "เคสประชาชนทั่วไป")
    expect(page.locator("[data-missing-none]")).to_be_visible()
    for kind in ("related", "financial"):
        expect(page.locator(f"[data-documents={kind}] [data-download]")).to_have_count(1)
    _, content = _download(page, "[data-documents=financial] [data-download]")
    assert content == _pdf(f"{key} financial documents")
    shot(page, f"{key}-recorded")
    return case


def test_the_manual_from_recording_to_settlement_in_the_browser(live: Any, page_as: Any, shot: Any) -> None:
    child_person, adult_person = _people()
    officer = page_as("officer.1008")

    # --- บันทึกข้อมูลเคส: the two cases, each with its two PDFs ---------------------------------
    child = _record(officer, shot, child_person)
    adult = _record(officer, shot, adult_person)

    # --- จัดทำรายการขออนุมัติเงิน: both on the agenda; the adult's taken off and brought back ------
    def row(page: Any, case: dict[str, Any]) -> Any:
        return page.locator(f'tr[data-case="{case["case_no"]}"]')

    with officer.expect_navigation():
        officer.click("nav.menu a:has-text('จัดทำรายการขออนุมัติเงิน')")
    _reload_until(officer, "/agenda/", row(officer, child))  # intake → approval events
    _reload_until(officer, "/agenda/", row(officer, adult))
    expect(officer.locator("[data-count]")).to_have_text("2")
    expect(officer.locator("[data-total]")).to_have_text("8,000.00")
    expect(row(officer, child)).to_contain_text(child["welfare_type_name"])
    expect(row(officer, child)).to_contain_text("เคสผู้พิการ")
    expect(row(officer, adult)).to_contain_text("5,000.00")
    assert child["national_id"] not in officer.content()  # masked in the list
    shot(officer, "agenda-two-cases")

    with officer.expect_navigation():
        row(officer, adult).locator("button[data-action=defer]").click()
    expect(officer.locator(".flash.ok")).to_contain_text("นำเคสออกจากที่ประชุมชั่วคราวแล้ว")
    expect(row(officer, adult)).to_have_count(0)
    expect(officer.locator("[data-count]")).to_have_text("1")
    expect(officer.locator("[data-total]")).to_have_text("3,000.00")
    shot(officer, "agenda-adult-deferred")

    with officer.expect_navigation():
        officer.click("nav.menu a:has-text('หน้าหลัก')")
    deferred = officer.locator("[data-deferred]")
    expect(row(deferred, adult)).to_contain_text("ทุนประกอบอาชีพ")
    expect(row(deferred, adult)).to_contain_text("5,000.00")
    expect(officer.locator("[data-agenda-now]")).to_contain_text("เคสในที่ประชุม 1 ราย")
    shot(officer, "home-deferred-list")
    with officer.expect_navigation():
        row(deferred, adult).locator("button[data-action=restore]").click()
    expect(officer.locator(".flash.ok")).to_contain_text("นำเคสกลับเข้าที่ประชุมแล้ว")
    expect(row(officer.locator("[data-deferred]"), adult)).to_have_count(0)
    expect(officer.locator("[data-agenda-now]")).to_contain_text("เคสในที่ประชุม 2 ราย")
    shot(officer, "home-after-restore")
    officer.goto("/agenda/")
    expect(row(officer, adult)).to_be_visible()
    expect(officer.locator("[data-count]")).to_have_text("2")
    expect(officer.locator("[data-total]")).to_have_text("8,000.00")
    shot(officer, "agenda-restored")

    # --- The head closes the agenda: confirmation, then progress until approved ------------------
    head = page_as("head.1008")
    with head.expect_navigation():
        head.click("nav.menu a:has-text('จัดทำรายการขออนุมัติเงิน')")
    with head.expect_navigation():
        head.click("a[data-action=close]")
    summary = head.locator("[data-lock-summary]")
    expect(summary.locator("[data-lock-count]")).to_have_text("2")
    expect(summary.locator("[data-lock-total]")).to_have_text("8,000.00")
    expect(summary.locator("[data-lock-cases]")).to_contain_text(child["case_no"])
    expect(summary.locator("[data-lock-cases]")).to_contain_text(adult["case_no"])
    expect(summary).to_contain_text("จะไม่สามารถแก้ไขข้อมูลทั่วไปของเคส")
    head.fill("form[data-close-form] input[name=meeting_date]", format_be_date(_today()))
    shot(head, "close-confirmation")
    dialogs: list[str] = []
    head.once("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    head.click("form[data-close-form] button[type=submit]")
    head.wait_for_url(re.compile(r"/(agenda/batches/[^/]+/progress|reports/batches/[^/?]+)$"))
    assert len(dialogs) == 1
    assert "2 ราย" in dialogs[0]
    assert "8,000.00" in dialogs[0]
    shot(head, "closing-progress")
    head.wait_for_url(re.compile(r"/reports/batches/[^/?]+$"), timeout=120_000)
    approval_batch_id = head.url.rsplit("/", 1)[1]
    expect(head.locator(".flash.ok")).to_contain_text("อนุมัติแล้ว")
    expect(head.locator("[data-batch-status]")).to_have_attribute("data-batch-status", "approved")
    expect(head.locator("[data-batch-count]")).to_have_text("2")
    expect(head.locator("[data-batch-total]")).to_have_text("8,000.00")
    expect(head.locator("[data-batch-cases]")).to_contain_text(child["case_no"])
    expect(head.locator("[data-batch-cases]")).to_contain_text(adult["case_no"])
    batch_title = head.locator("[data-batch-title]").inner_text()
    assert "ครั้งที่1-ปีงบประมาณ" in batch_title, batch_title
    shot(head, "batch-approved")

    # --- จ่ายเงินประชาชน: finance's payout batch from the approval --------------------------------
    finance = page_as("finance.1008")
    payout_row = finance.locator("[data-payouts] tr[data-payout]")
    _reload_until(finance, "/", payout_row, timeout=120)  # approval → payment events
    expect(payout_row).to_contain_text(batch_title)
    shot(finance, "finance-home")
    with finance.expect_navigation():
        finance.click("nav.menu a:has-text('จ่ายเงินประชาชน')")
    listed = finance.locator("tr[data-batch]").filter(has_text=batch_title)
    expect(listed).to_contain_text("8,000.00")
    expect(listed.locator("td[data-state=pending]")).to_have_text("2")
    shot(finance, "payout-batches")
    with finance.expect_navigation():
        listed.locator("a:has-text('แสดงรายการ')").click()
    payout_id = int(re.search(r"/payments/batches/(\d+)$", finance.url).group(1))  # type: ignore[union-attr]
    lines = finance.locator("table[data-lines] tbody tr")
    expect(lines).to_have_count(2)
    line_of = {
        c["key"]: finance.locator(f"table[data-lines] tr[data-case-no='{c['case_no']}']")
        for c in (child, adult)
    }
    expect(line_of["child"]).to_contain_text("xxxxxx6789")
    expect(line_of["adult"]).to_contain_text("xxxxxx1234")
    expect(line_of["child"]).to_contain_text("3,000.00")
    expect(line_of["adult"]).to_contain_text("5,000.00")
    table = finance.locator("table[data-lines]").inner_text()
    assert child["account_no"] not in table  # masked
    assert adult["account_no"] not in table
    assert table.count("รอจัดทำไฟล์") == 2
    shot(finance, "payout-batch")

    # Both file groups: KTB payees' text file ("Direct") and the other banks' Excel register.
    ktb, other = (
        "section[data-downloads] div[data-group=ktb]",
        "section[data-downloads] div[data-group=other]",
    )
    expect(finance.locator(f"{ktb} input[name=effective_date]")).to_have_value(_today().isoformat())
    name, txt = _download(finance, f"{ktb} button[data-format=txt]")
    assert re.fullmatch(r"KTB_DIRECT_B\d+_F\d+_\d{8}\.txt", name), name
    assert txt.count(b"\r\n") == 2  # the header and one payee
    header, (ktb_line,) = _ktb_text(txt)
    assert header["count"] == 1
    assert header["total_satang"] == 300000
    assert header["effective_date"] == _today().strftime("%d%m%Y")
    assert (ktb_line["bank_code"], ktb_line["satang"]) == ("006", 300000)
    assert ktb_line["account"] == child["account_no"].zfill(11)
    assert ktb_line["receiver_name"] == child["account_name"]
    expect(finance.locator("#download-result-ktb [data-downloaded]")).to_be_visible()

    name, xlsx = _download(finance, f"{other} button[data-format=xlsx]")
    assert re.fullmatch(r"KTB_STD_B\d+_F\d+_\d{8}\.xlsx", name), name
    (other_row,) = _xlsx_rows(xlsx)
    assert other_row["Receiving Bank Code"] == "014"
    assert other_row["Receiving A/C No."] == adult["account_no"]
    assert other_row["Receiver Name"] == adult["account_name"]
    assert _satang(other_row["Transfer Amount"]) == 500000
    other_ref2 = str(other_row["Reference No./ DDA Ref 2"])
    expect(finance.locator("#download-result-other [data-downloaded]")).to_be_visible()
    shot(finance, "files-downloaded")

    # The files made are listed; the other banks' file as text carries the same ref2.
    finance.reload()
    assert finance.locator("table[data-lines]").inner_text().count("รอผลการโอน") == 2
    expect(line_of["child"]).to_contain_text(ktb_line["ref2"])  # the page shows the files' ref2s
    expect(line_of["adult"]).to_contain_text(other_ref2)
    files = finance.locator("section[data-files] tbody tr")
    expect(files).to_have_count(2)
    other_file = finance.locator("section[data-files] tr[data-group=other]")
    _, other_txt = _download(finance, "section[data-files] tr[data-group=other] a[href$='.txt']")
    other_header, (other_line,) = _ktb_text(other_txt)
    assert (other_header["count"], other_header["total_satang"]) == (1, 500000)
    assert other_line["ref2"] == other_ref2
    assert other_line["account"] == adult["account_no"].zfill(11)
    file_ids = [
        int(f)
        for f in finance.locator("section[data-files] tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.file)"
        )
    ]
    expect(other_file).to_contain_text("5,000.00")
    shot(finance, "files-listed")

    # The bank's first result, built from the files: the KTB payee paid, the other one failed.
    first = result_csv(
        [
            {
                "ref2": ktb_line["ref2"],
                "bank_code": ktb_line["bank_code"],
                "account_no": ktb_line["account"],
                "amount": _baht(ktb_line["satang"]),
                "status": "SUCCESS",
            },
            {
                "ref2": other_ref2,
                "bank_code": "014",
                "account_no": str(other_row["Receiving A/C No."]),
                "amount": _baht(_satang(other_row["Transfer Amount"])),
                "status": "FAILED",
                "reason_text": "ACCOUNT CLOSED",
            },
        ]
    )
    first_import = _upload_result(finance, "ktb-result-1.csv", first)
    expect(finance.locator("[data-job], [data-import-status]").first).to_be_visible()
    shot(finance, "first-import-progress")
    expect(finance.locator("[data-import-status=done]")).to_be_visible(timeout=120_000)
    summary = finance.locator("table[data-summary]")
    for count, value in (("paid", "1"), ("failed", "1"), ("review", "0"), ("unknown", "0")):
        expect(summary.locator(f"tr[data-count={count}] td")).to_have_text(value)
    attention = finance.locator("section[data-attention] tbody tr")
    expect(attention).to_have_count(1)
    expect(attention).to_contain_text(adult["case_no"])
    expect(attention).to_contain_text("โอนไม่สำเร็จ")
    shot(finance, "first-import-summary")

    # Correct the failed payee's bank details (the account was closed: a new one at the same bank).
    with finance.expect_navigation():
        attention.locator("a").click()
    line_match = re.search(r"/payments/batches/\d+/lines/(\d+)$", finance.url)
    assert line_match, finance.url
    form = finance.locator("form[data-bank-form]")
    expect(form.locator("input[name=account_no]")).to_have_value(adult["account_no"])
    expect(form.locator("select[name=bank_code]")).to_have_value("014")
    form.locator("input[name=account_no]").fill(CORRECTED_ACCOUNT)
    shot(finance, "correct-bank-details")
    with finance.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(finance.locator(".flash.ok")).to_contain_text(f"แก้ไขข้อมูลบัญชีของเคส {adult['case_no']} แล้ว")
    expect(line_of["adult"]).to_have_attribute("data-state", "pending")
    expect(line_of["adult"]).to_contain_text("xxxxxx2345")
    expect(line_of["child"]).to_have_attribute("data-state", "paid")
    shot(finance, "bank-details-corrected")

    # The next file of the other banks: that payee only, with a new ref2.
    name, txt2 = _download(finance, f"{other} button[data-format=txt]")
    assert name.startswith("KTB_STD_"), name
    assert txt2.count(b"\r\n") == 2
    header2, (resent,) = _ktb_text(txt2)
    assert (header2["count"], header2["total_satang"]) == (1, 500000)
    assert resent["account"] == CORRECTED_ACCOUNT.zfill(11)
    assert resent["ref2"] != other_ref2
    assert other_ref2.encode() not in txt2
    finance.reload()
    expect(line_of["adult"]).to_contain_text(resent["ref2"])
    expect(line_of["adult"]).to_contain_text("รอผลการโอน")
    expect(files).to_have_count(3)
    shot(finance, "next-file")

    # The second result: paid.
    second = result_csv(
        [
            {
                "ref2": resent["ref2"],
                "bank_code": resent["bank_code"],
                "account_no": CORRECTED_ACCOUNT,
                "amount": _baht(resent["satang"]),
                "status": "SUCCESS",
            }
        ]
    )
    second_import = _upload_result(finance, "ktb-result-2.csv", second)
    shot(finance, "second-import-progress")
    expect(finance.locator("[data-import-status=done]")).to_be_visible(timeout=120_000)
    expect(finance.locator("table[data-summary] tr[data-count=paid] td")).to_have_text("1")
    expect(finance.locator("table[data-summary] tr[data-count=failed] td")).to_have_text("0")
    expect(finance.locator("section[data-attention]")).to_have_count(0)
    shot(finance, "second-import-summary")

    # Settle after the final review list.
    with finance.expect_navigation():
        finance.click("div.actions a:has-text('กลับไปชุดจ่ายเงิน')")
    with finance.expect_navigation():
        finance.click("[data-review-link]")
    expect(finance.locator("table[data-review] tbody tr[data-state=paid]")).to_have_count(2)
    expect(finance.locator("[data-review-total]")).to_contain_text("จำนวน 2 ราย เป็นเงิน 8,000.00 บาท")
    expect(finance.locator("section[data-blocking]")).to_have_count(0)
    shot(finance, "final-review")
    settle_dialogs: list[str] = []
    finance.once("dialog", lambda d: (settle_dialogs.append(d.message), d.accept()))
    with finance.expect_navigation():
        finance.click("button:has-text('บันทึกการจ่ายสำเร็จทั้งหมด')")
    assert len(settle_dialogs) == 1
    assert "8,000.00" in settle_dialogs[0]
    expect(finance.locator(".flash.ok")).to_contain_text("บันทึกการจ่ายสำเร็จทั้งหมด")
    expect(finance.locator("[data-batch-status]")).to_have_attribute("data-batch-status", "settled")
    expect(finance.locator("[data-paid-total]")).to_have_text("8,000.00")
    expect(finance.locator("section[data-upload]")).to_have_count(0)
    shot(finance, "settled")

    # --- แสดงข้อมูลเคส: both cases paid; the corrected account reached the case ------------------
    for case, account in ((child, child["account_no"]), (adult, CORRECTED_ACCOUNT)):
        _reload_until(
            officer,
            f"/cases/?q={case['case_no']}",
            officer.locator(f"tr[data-case='{case['case_no']}']:has-text('จ่ายเงินแล้ว')"),
        )
        with officer.expect_navigation():
            officer.locator(f"tr[data-case='{case['case_no']}'] a:has-text('แสดงข้อมูล')").click()
        expect(officer.locator("[data-status]")).to_have_text("จ่ายเงินแล้ว")
        expect(officer.locator("[data-account-no]")).to_have_text(account)
        expect(officer.locator("[data-edit]")).to_have_count(0)  # a paid case is closed
        expect(officer.locator("[data-case-history]")).to_contain_text("จ่ายเงินแล้ว")
        if case is adult:  # its way through the manual, step by step, in the case's history
            history = officer.locator("[data-case-history]")
            expect(history).to_contain_text("นำออกจากที่ประชุมชั่วคราว")
            expect(history).to_contain_text("นำกลับเข้าที่ประชุม")
            expect(history).to_contain_text("ACCOUNT CLOSED")
            expect(officer.locator("[data-audit]")).to_contain_text("payment:finance.1008")
        shot(officer, f"{case['key']}-paid")

    STATE.update(
        child=child,
        adult=adult,
        approval_batch_id=approval_batch_id,
        batch_title=batch_title,
        payout_id=payout_id,
        line_id=int(line_match.group(1)),
        file_ids=file_ids,
        import_ids=(first_import, second_import),
    )


def _refused(page: Any, path: str, status: int) -> None:
    """A page of district 1008's data is the Thai error page for another district's user."""
    response = page.goto(path)
    assert response is not None
    assert response.status == status, (path, response.status)
    expect(page.locator("h1")).to_have_text(NOT_FOUND if status == 404 else FORBIDDEN)


def _refused_download(page: Any, path: str) -> None:
    """A file of district 1008 (a /api/ link the pages offer) answers 404 with a Thai message."""
    response = page.request.get(path)
    assert response.status == 404, (path, response.status)
    message = response.json()["error"]["message"]
    assert re.search("[\u0e01-\u0e5b]", message), message


def test_another_district_sees_none_of_it(live: Any, page_as: Any, shot: Any) -> None:
    if not STATE:
        pytest.fail("needs the walk above (run the whole module): it makes the data this test looks for")
    child, adult = STATE["child"], STATE["adult"]
    payout_id, approval_id = STATE["payout_id"], STATE["approval_batch_id"]
    case_nos = (child["case_no"], adult["case_no"])
    names = (child["last_name"], adult["last_name"])

    def none_shown(page: Any) -> None:
        text = page.locator("main").inner_text()
        for value in (*case_nos, *names, STATE["batch_title"]):
            assert value not in text, value

    officer = page_as("officer.1001")
    none_shown(officer)  # the home page: no deferred case, no payout batch of 1008
    shot(officer, "officer-1001-home")
    for path in ("/cases/", f"/cases/?q={child['case_no']}", f"/cases/?q={adult['last_name']}"):
        officer.goto(path)
        none_shown(officer)
    expect(officer.locator("[data-empty]")).to_be_visible()
    shot(officer, "officer-1001-case-search")
    for path in ("/agenda/", "/reports/", "/payments/?status=all"):
        officer.goto(path)
        none_shown(officer)
    for case in (child, adult):
        _refused(officer, f"/cases/{case['id']}", 404)
        _refused(officer, f"/cases/{case['id']}/edit", 404)
        _refused(officer, f"/agenda/cases/{case['id']}/edit", 404)
        _refused_download(officer, f"/api/intake/cases/{case['id']}/documents/related")
    shot(officer, "officer-1001-case-detail")
    _refused(officer, f"/reports/batches/{approval_id}", 404)
    _refused(officer, f"/payments/batches/{payout_id}", 404)
    shot(officer, "officer-1001-payout-batch")

    head = page_as("head.1001")
    none_shown(head)
    for path in ("/agenda/", "/agenda/close", "/reports/"):
        head.goto(path)
        none_shown(head)
    shot(head, "head-1001-reports")
    _refused(head, f"/agenda/batches/{approval_id}/progress", 404)
    _refused(head, f"/reports/batches/{approval_id}", 404)
    for doc in ("approval-report.pdf", "approval-report.xlsx"):
        _refused_download(head, f"/api/reporting/batches/{approval_id}/{doc}")
    _refused(head, f"/cases/{adult['id']}", 404)
    shot(head, "head-1001-batch")

    finance = page_as("finance.1001")
    none_shown(finance)
    for path in (
        "/payments/?status=all",
        "/payments/?status=settled",
        "/reports/",
        "/payments/alerts?show=all",
    ):
        finance.goto(path)
        none_shown(finance)
    shot(finance, "finance-1001-payments")
    _refused(finance, f"/payments/batches/{payout_id}", 404)
    _refused(finance, f"/payments/batches/{payout_id}/review", 404)
    _refused(finance, f"/payments/batches/{payout_id}/lines/{STATE['line_id']}", 404)
    for import_id in STATE["import_ids"]:
        _refused(finance, f"/payments/imports/{import_id}", 404)
    shot(finance, "finance-1001-batch")
    for file_id in STATE["file_ids"]:
        for ext in ("txt", "xlsx"):
            _refused_download(finance, f"/api/payment/files/{file_id}.{ext}")
    for group in ("ktb", "other"):
        _refused_download(finance, f"/api/payment/batches/{payout_id}/files/{group}.txt")
    _refused(finance, f"/cases/{child['id']}", 403)  # finance never reads cases
    shot(finance, "finance-1001-case-refused")
    # A POST on 1008's batch through the pages changes nothing (the service refuses it).
    token = finance.get_attribute("meta[name=csrf-token]", "content")
    refused = finance.request.post(f"/payments/batches/{payout_id}/settle", form={"csrf_token": token})
    assert refused.status == 404, refused.status
