"""บันทึกข้อมูลเคส and แสดงข้อมูลเคส in a real browser against the live system.

An officer checks a national ID (the person's case in another district and the warnings show),
records the case through the form (field errors in Thai beside a bad account number and a missing
BAAC branch), attaches two real PDFs, lands on the case's detail, finds it again, records the home
visit and edits the phone; an officer of another district cannot see it.  Once the case is locked
into an approval batch only bank details, phone and e-mail can change, and a form opened before the
lock gets intake's 409 message.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from shared.testing.system import wait_for
from shared.thai import age_on, format_be_date, format_national_id
from tests.intake.support import case_body, national_id

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PASSWORD = "ecase-demo-2566"
BANGKOK = dt.timezone(dt.timedelta(hours=7))
CASE_NO = re.compile(r"Case\d{4}-\d+")


def _pdf(text: str) -> bytes:
    """A small, real one-page PDF (with a correct cross-reference table) saying ``text``."""
    content = f"BT /F1 18 Tf 72 760 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]"
        b" /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _client(live: Any, username: str) -> requests.Session:
    """A requests session with the user's bearer token, for preparing data through the JSON API."""
    credentials = {"username": username, "password": PASSWORD}
    r = requests.post(live.url("/api/auth/token"), json=credentials, timeout=30)
    r.raise_for_status()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return session


def _today() -> dt.date:
    return dt.datetime.now(BANGKOK).date()


def _files(kind: str) -> list[dict[str, Any]]:
    content = _pdf(f"E-Case {kind} documents")
    return [{"name": f"{kind}.pdf", "mimeType": "application/pdf", "buffer": content}]


def _submit(page: Any, label: str = "ยืนยัน") -> None:
    with page.expect_navigation():
        page.click(f"main button[type=submit]:has-text('{label}')")


def test_officer_records_finds_visits_and_edits_a_case(live: Any, page_as: Any, shot: Any) -> None:
    rng = random.Random()
    nid = national_id(rng)
    last_name = f"ทดสอบหน้า{rng.randint(10000, 99999)}"
    # The same person already has an open case in another district (พระนคร, 1001).
    earlier = _client(live, "officer.1001").post(
        live.url("/api/intake/cases"),
        json=case_body(national_id=nid, welfare_type_code="MEDICAL", amount="2000.00"),
        timeout=30,
    )
    assert earlier.status_code == 201, earlier.text
    earlier_no = earlier.json()["case_no"]

    page = page_as("officer.1008")
    with page.expect_navigation():
        page.click("nav.menu a:has-text('บันทึกข้อมูลเคส')")
    expect(page.locator("h1")).to_have_text("บันทึกข้อมูลเคส")

    # Step 1: a wrong check digit is refused beside the field; nothing else happens.
    page.fill("input[name=national_id]", nid[:12] + str((int(nid[12]) + 1) % 10))
    _submit(page, "ตรวจสอบ")
    expect(page.locator("[data-field=national_id] .field-error")).to_contain_text("เลขประจำตัวประชาชน")
    assert page.locator("[data-history]").count() == 0
    shot(page, "check-wrong-digit")

    # The check: typed with dashes, with the intended request so the warnings include ceilings.
    page.fill("input[name=national_id]", format_national_id(nid))
    page.click("details summary")
    page.select_option("select[name=welfare_type_code]", "KINDERGARTEN")
    page.fill("input[name=amount]", "3000")
    _submit(page, "ตรวจสอบ")
    history = page.locator("[data-history]")
    expect(history).to_contain_text(format_national_id(nid))
    row = history.locator(f"tr:has-text('{earlier_no}')")
    expect(row).to_contain_text("พระนคร")
    expect(row).to_contain_text("ค่าใช้จ่ายที่เกี่ยวเนื่องในการรักษาพยาบาล")
    expect(row).to_contain_text("2,000.00")
    expect(row).to_contain_text(format_be_date(_today()))
    expect(history.locator("[data-warning=open_case]")).to_contain_text(earlier_no)
    shot(page, "check-history-and-warnings")

    # Step 2: the national ID is fixed; the request of step 1 is already filled in.
    _submit(page, "ดำเนินการต่อ")
    expect(page.locator("[data-national-id-shown]")).to_have_text(format_national_id(nid))
    assert page.locator("input[name=national_id]").count() == 0
    expect(page.locator("select[name=welfare_type_code]")).to_have_value("KINDERGARTEN")
    expect(page.locator("input[name=amount]")).to_have_value("3000")
    expect(page.locator("[data-ceiling-hint]")).to_contain_text("3,000.00")

    page.select_option("select[name=title]", "เด็กชาย")
    expect(page.locator("select[name=sex]")).to_have_value("male")  # from the title
    page.fill("input[name=first_name]", "สมชาย")
    page.fill("input[name=last_name]", last_name)
    page.fill("input[name=birth_date]", "02/10/2560")
    expected_age = age_on(dt.date(2017, 10, 2), _today())
    expect(page.locator("[data-age]")).to_have_value(str(expected_age))
    page.check("input[name=disabled]")
    page.fill("textarea[name=hardship]", "ครอบครัวยากจน บิดาตกงาน ไม่มีเงินค่าใช้จ่ายในการศึกษาระดับอนุบาล")
    page.select_option("select[name='bank.bank_code']", "006")
    expect(page.locator("[data-branch-field]")).to_be_hidden()
    page.fill("input[name='bank.account_name']", f"นางสมศรี {last_name}")
    page.fill("input[name='bank.account_no']", "12345abc")
    page.fill("input[name=phone]", "0812345678")
    page.set_input_files("input[name=related]", files=_files("related"))
    page.set_input_files("input[name=financial]", files=_files("financial"))
    _submit(page)
    error = page.locator("[data-field='bank.account_no'] .field-error")
    expect(error).to_contain_text("ตัวเลข")
    expect(page.locator("[data-field=related] .field-error")).to_contain_text("เลือกไฟล์นี้อีกครั้ง")
    expect(page.locator("input[name=last_name]")).to_have_value(last_name)  # what was typed stays
    shot(page, "form-bad-account-number")

    # BAAC needs the branch: the field appears with its rule, and is required.
    page.select_option("select[name='bank.bank_code']", "034")
    branch = page.locator("[data-branch-field]")
    expect(branch).to_be_visible()
    expect(branch.locator("[data-branch-rule]")).to_contain_text("034")
    page.fill("input[name='bank.account_no']", "020123456789")
    page.set_input_files("input[name=related]", files=_files("related"))
    page.set_input_files("input[name=financial]", files=_files("financial"))
    _submit(page)
    expect(page.locator("[data-field='bank.branch_code'] .field-error")).to_contain_text("รหัสสาขา")
    expect(page.locator("[data-field='bank.account_no'] .field-error")).to_have_count(0)
    shot(page, "form-baac-without-branch")

    page.fill("input[name='bank.branch_code']", "0123")
    page.set_input_files("input[name=related]", files=_files("related"))
    page.set_input_files("input[name=financial]", files=_files("financial"))
    _submit(page)

    # The detail page, with the case number in the flash.
    flash = page.locator("p.flash.ok")
    expect(flash).to_contain_text("บันทึกข้อมูลเคสเรียบร้อยแล้ว เลขที่เคส")
    match = CASE_NO.search(flash.inner_text())
    assert match, flash.inner_text()
    case_no = match.group(0)
    case_url = page.url
    case_id = case_url.rstrip("/").rsplit("/", 1)[-1]
    expect(page.locator("[data-case-no]")).to_have_text(case_no)
    expect(page.locator("[data-national-id]")).to_have_text(format_national_id(nid))
    expect(page.locator("[data-name]")).to_have_text(f"เด็กชาย สมชาย {last_name}")
    expect(page.locator("[data-age]")).to_have_text(str(expected_age))
    expect(page.locator("[data-birth-date]")).to_have_text("02/10/2560")
    expect(page.locator("[data-amount]")).to_have_text("3,000.00")
    expect(page.locator("main")).to_contain_text("เคสผู้พิการ")
    expect(page.locator("[data-account-no]")).to_have_text("020123456789")
    expect(page.locator("[data-missing-none]")).to_be_visible()
    expect(page.locator("[data-documents=related] [data-download]")).to_have_count(1)
    expect(page.locator("[data-documents=financial] [data-download]")).to_have_count(1)
    expect(page.locator("[data-person-history]")).to_contain_text(earlier_no)
    expect(page.locator("[data-audit]")).to_contain_text("บันทึกข้อมูลเคส")
    shot(page, "detail-after-recording")
    with page.expect_download() as download:
        page.click("[data-documents=related] [data-download]")
    assert download.value.suggested_filename == f"{case_no}-related.pdf"
    with open(download.value.path(), "rb") as fh:
        assert fh.read() == _pdf("E-Case related documents")

    # Replace the related PDF: both versions are listed, the old one marked replaced.
    form = page.locator("form[data-upload=related]")
    form.locator("input[type=file]").set_input_files(
        files=[{"name": "related-2.pdf", "mimeType": "application/pdf", "buffer": _pdf("E-Case related v2")}]
    )
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(page.locator("p.flash.ok")).to_contain_text("เปลี่ยนไฟล์เอกสารที่เกี่ยวข้องแล้ว")
    versions = page.locator("[data-documents=related] tbody tr")
    expect(versions).to_have_count(2)
    expect(versions.nth(1)).to_contain_text("ฉบับเดิม (ถูกแทนที่เมื่อ")
    for row_index, content in ((0, _pdf("E-Case related v2")), (1, _pdf("E-Case related documents"))):
        with page.expect_download() as download:
            versions.nth(row_index).locator("[data-download]").click()
        with open(download.value.path(), "rb") as fh:
            assert fh.read() == content  # every version, the replaced one too
    # A file that is not a PDF is refused beside the upload.
    form = page.locator("form[data-upload=financial]")
    form.locator("input[type=file]").set_input_files(
        files=[{"name": "scan.pdf", "mimeType": "application/pdf", "buffer": b"GIF89a not a pdf"}]
    )
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(page.locator("form[data-upload=financial] .field-error")).to_contain_text("PDF")
    shot(page, "detail-documents")

    # แสดงข้อมูลเคส: find it by national ID, by name and by case number; IDs masked in the list.
    with page.expect_navigation():
        page.click("nav.menu a:has-text('แสดงข้อมูลเคส')")
    for query in (format_national_id(nid), last_name, case_no):
        page.fill("input[name=q]", query)
        _submit(page, "ค้นหา")
        row = page.locator(f"tr[data-case='{case_no}']")
        expect(row).to_have_count(1)
    expect(row.locator("[data-national-id-masked]")).to_contain_text("x-xxxx-xxxx")
    assert nid not in page.content()
    assert format_national_id(nid) not in page.locator("table").inner_text()
    expect(row).to_contain_text("เงินสนับสนุนกิจกรรมทางการศึกษาระดับอนุบาล")
    expect(row).to_contain_text("3,000.00")
    shot(page, "search-by-case-number")
    page.fill("input[name=q]", last_name)
    page.select_option("select[name=status]", "paid")
    _submit(page, "ค้นหา")
    expect(page.locator("[data-empty]")).to_be_visible()
    page.fill("input[name=q]", "1234567890123")  # 13 digits with a wrong check digit
    page.select_option("select[name=status]", "")
    _submit(page, "ค้นหา")
    expect(page.locator("[data-field=q] .field-error")).to_be_visible()

    # The home visit: a date in the future is refused beside the field, then today's is recorded.
    page.goto(case_url)
    tomorrow = format_be_date(_today() + dt.timedelta(days=1))
    page.fill("input[name=visited_on]", tomorrow)
    page.fill("textarea[name=findings]", "บ้านเช่าไม้ชั้นเดียว อยู่กับมารดาและยาย รายได้ไม่แน่นอน")
    _submit(page, "บันทึกการเยี่ยมบ้าน")
    expect(page.locator("[data-field=visited_on] .field-error")).to_be_visible()
    expect(page.locator("textarea[name=findings]")).to_have_value(re.compile("บ้านเช่าไม้"))
    shot(page, "home-visit-future-date")
    page.fill("input[name=visited_on]", format_be_date(_today()))
    _submit(page, "บันทึกการเยี่ยมบ้าน")
    expect(page.locator("p.flash.ok")).to_contain_text("บันทึกการเยี่ยมบ้าน")
    visits = page.locator("[data-visits] tbody tr")
    expect(visits).to_have_count(1)
    expect(visits.first).to_contain_text(format_be_date(_today()))
    expect(visits.first).to_contain_text("officer.1008")
    shot(page, "home-visit-recorded")

    # Edit the phone: the national ID is not editable; a bad phone is refused, then a good one saved.
    with page.expect_navigation():
        page.click("[data-edit]")
    expect(page.locator("h1")).to_have_text("แก้ไขข้อมูลเคส")
    assert page.locator("input[name=national_id]").count() == 0
    expect(page.locator("main")).to_contain_text(format_national_id(nid))
    expect(page.locator("input[name=birth_date]")).to_have_value("02/10/2560")
    expect(page.locator("[data-age]")).to_have_value(str(expected_age))
    page.fill("input[name=phone]", "08-1234")
    _submit(page)
    expect(page.locator("[data-field=phone] .field-error")).to_contain_text("หมายเลขโทรศัพท์")
    expect(page.locator("main p.flash.error")).to_have_text(re.compile("ข้อมูลไม่ถูกต้อง: หมายเลขโทรศัพท์"))
    expect(page.locator("main p.flash.error")).not_to_contain_text("phone")
    shot(page, "edit-bad-phone")
    page.fill("input[name=phone]", "0899999999")
    _submit(page)
    expect(page.locator("p.flash.ok")).to_contain_text(f"บันทึกการแก้ไขเคส {case_no}")
    expect(page.locator("[data-phone]")).to_have_text("0899999999")
    expect(page.locator("[data-amount]")).to_have_text("3,000.00")
    audit = page.locator("[data-audit] tbody tr:has-text('แก้ไขข้อมูลเคส')")
    expect(audit.first).to_contain_text("หมายเลขโทรศัพท์")
    shot(page, "edited-phone")

    # Another district sees none of it: not in its list, and the detail is the Thai not-found page.
    other = page_as("officer.1001")
    other.goto(f"/cases/?q={nid}")
    expect(other.locator(f"tr[data-case='{earlier_no}']")).to_have_count(1)  # its own case of the person
    expect(other.locator(f"tr[data-case='{case_no}']")).to_have_count(0)
    other.goto(f"/cases/?q={case_no}")
    expect(other.locator("[data-empty]")).to_be_visible()
    shot(other, "other-district-list")
    for path in (f"/cases/{case_id}", f"/cases/{case_id}/edit"):
        response = other.goto(path)
        assert response is not None
        assert response.status == 404
        expect(other.locator("h1")).to_have_text("ไม่พบหน้าหรือข้อมูลที่ต้องการ")
    shot(other, "other-district-detail")
    response = other.request.get(f"/api/intake/cases/{case_id}/documents/related")
    assert response.status == 404


def test_after_locking_only_bank_phone_and_email_change(live: Any, page_as: Any, shot: Any) -> None:
    officer, head = _client(live, "officer.1008"), _client(live, "head.1008")
    created = officer.post(live.url("/api/intake/cases"), json=case_body(amount="3000.00"), timeout=30)
    assert created.status_code == 201, created.text
    case = created.json()
    wait_for(
        lambda: any(
            i["case_id"] == case["id"]
            for i in head.get(live.url("/api/approval/agenda"), timeout=30).json().get("items", [])
        ),
        timeout=60,
        interval=0.5,
        what="the case on the agenda",
    )

    page = page_as("officer.1008")
    page.goto(f"/cases/{case['id']}/edit")
    expect(page.locator("input[name=amount]")).to_be_visible()  # not locked yet: everything editable

    # The committee's batch locks the case while the form is open.
    meeting = {"meeting_date": _today().isoformat()}
    closed = head.post(live.url("/api/approval/batches"), json=meeting, timeout=30)
    assert closed.status_code == 202, closed.text
    wait_for(
        lambda: officer.get(live.url(f"/api/intake/cases/{case['id']}"), timeout=30).json().get("locked"),
        timeout=90,
        interval=0.5,
        what="the case locked",
    )
    page.fill("input[name=amount]", "2500")
    _submit(page)
    conflict = page.locator("[data-conflict]")
    expect(conflict).to_contain_text("เคสนี้อยู่ในรายการอนุมัติเงินแล้ว")
    expect(conflict).to_contain_text("จำนวนเงิน")
    expect(page.locator("[data-locked]")).to_be_visible()
    expect(page.locator("input[name=amount]")).to_have_count(0)
    expect(page.locator("[data-fixed]")).to_contain_text("3,000.00")
    shot(page, "locked-edit-refused")

    page.fill("input[name=phone]", "0822222222")
    page.fill("input[name='bank.account_no']", "9876543210")
    _submit(page)
    expect(page.locator("p.flash.ok")).to_contain_text("บันทึกการแก้ไขเคส")
    expect(page.locator("[data-phone]")).to_have_text("0822222222")
    expect(page.locator("[data-account-no]")).to_have_text("9876543210")
    expect(page.locator("[data-amount]")).to_have_text("3,000.00")
    expect(page.locator("[data-locked]")).to_be_visible()
    assert page.locator("form[data-upload]").count() == 0  # locked: no new documents
    assert page.locator("form[data-visit-form]").count() == 0
    shot(page, "locked-detail")


def test_pages_follow_the_role(live: Any, page_as: Any, shot: Any) -> None:
    created = _client(live, "officer.1008").post(live.url("/api/intake/cases"), json=case_body(), timeout=30)
    assert created.status_code == 201, created.text
    case = created.json()

    finance = page_as("finance.1008")
    assert finance.locator("nav.menu a:has-text('แสดงข้อมูลเคส')").count() == 0
    assert finance.locator("nav.menu a:has-text('บันทึกข้อมูลเคส')").count() == 0
    for path in ("/cases/", "/cases/new", f"/cases/{case['id']}"):
        response = finance.goto(path)
        assert response is not None
        assert response.status == 403
        expect(finance.locator("h1")).to_have_text("คุณไม่มีสิทธิ์ใช้งานหน้านี้")

    central = page_as("central.admin")
    assert central.locator("nav.menu a:has-text('บันทึกข้อมูลเคส')").count() == 0
    with central.expect_navigation():
        central.click("nav.menu a:has-text('แสดงข้อมูลเคส')")
    central.select_option("select[name=district_code]", "1008")
    central.fill("input[name=q]", case["case_no"])
    _submit(central, "ค้นหา")
    row = central.locator(f"tr[data-case='{case['case_no']}']")
    expect(row).to_contain_text("ป้อมปราบศัตรูพ่าย")
    shot(central, "central-list")
    with central.expect_navigation():
        row.locator("a:has-text('แสดงข้อมูล')").click()
    expect(central.locator("[data-case-no]")).to_have_text(case["case_no"])
    assert central.locator("[data-edit]").count() == 0
    assert central.locator("form[data-upload]").count() == 0
    assert central.locator("form[data-visit-form]").count() == 0
    shot(central, "central-detail")
    response = central.goto("/cases/abc%3Fstatus=paid")  # not a case id: never sent on to intake
    assert response is not None
    assert response.status == 404
    response = central.goto("/cases/new")
    assert response is not None
    assert response.status == 403
