"""The committee's pages walked in a browser, as the manual (§4–5) describes them.

Two cases recorded through the JSON API (a disabled child with the kindergarten support, 3,000
baht; an adult with the career fund, 5,000 baht) reach district 1008's agenda; one is taken off
the agenda and brought back from the home page; an amount above the ceiling is refused with
intake's message; the officer cannot close the agenda; the head records the meeting, confirms
and follows the closing until the batch is approved, then downloads the approval report.  An
officer of district 1001 sees none of it.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from shared.testing.system import wait_for
from shared.thai import fiscal_year, format_be_date
from tests.intake.support import case_body, house_id
from tests.web.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

#: What the walk leaves for the later test of another district (filled by the first test).
STATE: dict[str, Any] = {}


def _token(live: Any, username: str) -> str:
    r = requests.post(
        live.url("/api/auth/token"), json={"username": username, "password": PASSWORD}, timeout=30
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def _api(live: Any, token: str, method: str, path: str, **kw: Any) -> requests.Response:
    return requests.request(
        method, live.url(path), headers={"Authorization": f"Bearer {token}"}, timeout=30, **kw
    )


@pytest.fixture(scope="module")
def cases(live: Any) -> dict[str, dict[str, Any]]:
    """The manual's two cases, recorded by officer.1008 through intake's API."""
    token = _token(live, "officer.1008")
    child = case_body(
        title="เด็กชาย",
        sex="male",
        first_name="ทดสอบหนึ่ง",
        last_name="วาระประชุม",
        birth_date="2018-10-02",
        disabled=True,
        welfare_type_code="KINDERGARTEN",
        amount="3000.00",
        hardship="ยากจน ผู้ปกครองรายได้ไม่พอค่าใช้จ่ายการศึกษา",
        bank={"bank_code": "006", "account_name": "ทดสอบหนึ่ง วาระประชุม", "account_no": "1234500011"},
    )
    adult = case_body(
        title="นาง",
        sex="female",
        first_name="ทดสอบสอง",
        last_name="วาระประชุม",
        birth_date="1969-03-15",
        welfare_type_code="CAREER",
        amount="5000.00",
        house_id=house_id(),
        hardship="ตกงานจากสถานการณ์โรคระบาด ต้องการทุนประกอบอาชีพ",
        bank={"bank_code": "014", "account_name": "ทดสอบสอง วาระประชุม", "account_no": "1234500022"},
    )
    recorded = {}
    for key, body in (("child", child), ("adult", adult)):
        r = _api(live, token, "POST", "/api/intake/cases", json=body)
        assert r.status_code == 201, r.text
        recorded[key] = {**r.json(), "full_national_id": body["national_id"]}
    return recorded


def _row(page: Any, case: dict[str, Any]) -> Any:
    return page.locator(f'tr[data-case="{case["case_no"]}"]')


def _reload_until(page: Any, path: str, locator: Any, *, timeout: float = 60) -> None:
    """Open a server-rendered page again until ``locator`` is on it (events arrive asynchronously)."""

    def shown() -> bool:
        page.goto(path)
        return bool(locator.count())

    wait_for(shown, timeout=timeout, interval=0.5, what=f"{locator} on {path}")


def test_the_committee_defers_amends_and_closes_the_agenda_then_prints_the_report(
    live: Any, page_as: Any, shot: Any, cases: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    child, adult = cases["child"], cases["adult"]
    officer = page_as("officer.1008")

    # The two cases arrive on the agenda by themselves (intake → approval events).
    _reload_until(officer, "/agenda/", _row(officer, adult))
    _reload_until(officer, "/agenda/", _row(officer, child))
    assert officer.locator("h1").inner_text() == "จัดทำรายการขออนุมัติเงิน"
    assert officer.locator("[data-count]").inner_text() == "2"
    assert officer.locator("[data-total]").inner_text() == "8,000.00"
    row = _row(officer, child).inner_text()
    assert "เงินสนับสนุนกิจกรรมทางการศึกษาระดับอนุบาล" in row
    assert "3,000.00" in row
    assert "เคสผู้พิการ" in row
    assert child["full_national_id"] not in officer.content()  # masked in the list
    assert child["national_id_masked"] in row
    assert (
        _row(officer, child).locator("a", has_text="แสดงข้อมูล").get_attribute("href")
        == f"/cases/{child['id']}"
    )
    shot(officer, "agenda-with-two-cases")

    # Take the adult's case off the agenda for now: it waits on the home page.
    with officer.expect_navigation():
        _row(officer, adult).locator("button[data-action=defer]").click()
    expect(officer.locator(".flash.ok")).to_contain_text("นำเคสออกจากที่ประชุมชั่วคราวแล้ว")
    expect(_row(officer, adult)).to_have_count(0)
    assert officer.locator("[data-count]").inner_text() == "1"
    assert officer.locator("[data-total]").inner_text() == "3,000.00"
    shot(officer, "agenda-after-defer")

    officer.goto("/")
    deferred = officer.locator("[data-deferred]")
    expect(_row(deferred, adult)).to_be_visible()
    home_row = _row(deferred, adult)
    assert "ทุนประกอบอาชีพ" in home_row.inner_text()
    assert "5,000.00" in home_row.inner_text()
    for label, href in (
        ("แสดงข้อมูล", f"/cases/{adult['id']}"),
        ("แก้ไขข้อมูล", f"/agenda/cases/{adult['id']}/edit?back=home"),
        ("บันทึกขาดคุณสมบัติ", f"/agenda/cases/{adult['id']}/disqualify?back=home"),
    ):
        assert home_row.locator("a", has_text=label).get_attribute("href") == href
    expect(officer.locator("[data-agenda-now]")).to_contain_text("เคสในที่ประชุม 1 ราย")
    shot(officer, "home-with-deferred-case")

    # The not-qualified form from the home page refuses a blank reason and changes nothing.
    home_row.locator("a", has_text="บันทึกขาดคุณสมบัติ").click()
    officer.wait_for_url("**/disqualify?back=home")
    officer.fill("textarea[name=reason]", "   ")
    officer.once("dialog", lambda d: d.accept())
    with officer.expect_navigation():
        officer.click("main form button[type=submit]")
    expect(officer.locator("[data-field=reason] .field-error")).to_contain_text("กรุณาระบุสาเหตุการขาดคุณสมบัติ")
    shot(officer, "not-qualified-needs-a-reason")

    # Back on the agenda from the home page.
    officer.goto("/")
    with officer.expect_navigation():
        _row(officer.locator("[data-deferred]"), adult).locator("button[data-action=restore]").click()
    expect(officer.locator(".flash.ok")).to_contain_text("นำเคสกลับเข้าที่ประชุมแล้ว")
    expect(_row(officer.locator("[data-deferred]"), adult)).to_have_count(0)
    shot(officer, "home-after-restore")
    officer.goto("/agenda/")
    expect(_row(officer, adult)).to_be_visible()
    assert officer.locator("[data-count]").inner_text() == "2"

    # The committee's change above the kindergarten support's ceiling: intake's 422, nothing saved.
    _row(officer, child).locator("a", has_text="แก้ไขข้อมูล").click()
    officer.wait_for_url(f"**/agenda/cases/{child['id']}/edit")
    assert officer.locator("select[name=welfare_type_code]").input_value() == "KINDERGARTEN"
    officer.fill("input[name=amount]", "3500")
    with officer.expect_navigation():
        officer.click("main form[data-edit-form] button[type=submit]")
    error = officer.locator(".flash.error")
    expect(error).to_contain_text("เกินเพดาน")
    expect(error).to_contain_text("3,500.00")
    expect(officer.locator("[data-field=amount] .field-error")).to_be_visible()
    assert officer.locator("input[name=amount]").input_value() == "3500"
    shot(officer, "amount-above-ceiling-refused")
    officer.goto("/agenda/")
    assert "3,000.00" in _row(officer, child).inner_text()
    assert officer.locator("[data-total]").inner_text() == "8,000.00"

    # An officer prepares the agenda but cannot close it, and is told why.
    assert officer.locator("a[data-action=close]").count() == 0
    expect(officer.locator("[data-head-only]")).to_contain_text("เฉพาะหัวหน้าฝ่าย")
    response = officer.goto("/agenda/close")
    assert response is not None
    assert response.status == 403
    expect(officer.locator("[data-head-only]")).to_be_visible()
    assert officer.locator("form[data-close-form]").count() == 0
    shot(officer, "officer-cannot-close")

    # The list printed for the meeting (the manual's "พิมพ์รายชื่อเคส").
    officer.goto("/agenda/print")
    printed = officer.locator("[data-print-list]")
    expect(printed).to_contain_text("บัญชีที่ 1 ลำดับที่ 3")
    expect(printed.locator("tfoot")).to_contain_text("8,000.00")
    expect(officer.locator("button[data-print]")).to_be_visible()
    shot(officer, "print-view")

    # The head records the meeting, then closes the agenda through the confirmation page.
    head = page_as("head.1008")
    head.goto("/agenda/meetings")
    today_be = format_be_date(_bangkok_today())
    assert head.locator("input[name=meeting_date]").input_value() == today_be
    head.fill("input[name=number]", "1/2567")
    head.fill("textarea[name=attendees]", "นายประธาน กรรมการ\nนางเลขา กรรมการ")
    head.fill("textarea[name=notes]", "อนุมัติทั้ง 2 ราย")
    with head.expect_navigation():
        head.click("form[data-meeting-form] button[type=submit]")
    expect(head.locator(".flash.ok")).to_contain_text("บันทึกการประชุมครั้งที่ 1/2567 แล้ว")
    expect(head.locator("[data-meetings]")).to_contain_text("นายประธาน กรรมการ")
    shot(head, "meeting-recorded")

    head.goto("/agenda/")
    head.click("a[data-action=close]")
    head.wait_for_url("**/agenda/close")
    summary = head.locator("[data-lock-summary]")
    assert summary.locator("[data-lock-count]").inner_text() == "2"
    assert summary.locator("[data-lock-total]").inner_text() == "8,000.00"
    numbers = summary.locator("[data-lock-cases]").inner_text()
    assert child["case_no"] in numbers
    assert adult["case_no"] in numbers
    expect(summary).to_contain_text("จะไม่สามารถแก้ไขข้อมูลทั่วไปของเคส")
    head.select_option("select[name=meeting_id]", label=f"ครั้งที่ 1/2567 วันที่ {today_be}")
    shot(head, "confirm-close")
    dialogs: list[str] = []
    head.once("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    head.click("form[data-close-form] button[type=submit]")
    head.wait_for_url(re.compile(r"/(agenda/batches/[^/]+/progress|reports/batches/[^/?]+)$"))
    assert dialogs
    assert "8,000.00" in dialogs[0]
    shot(head, "closing-progress")
    head.wait_for_url(re.compile(r"/reports/batches/[^/?]+$"), timeout=90_000)
    batch_id = head.url.rsplit("/", 1)[1]
    STATE["batch_id"] = batch_id
    expect(head.locator("[data-batch-status]")).to_have_attribute("data-batch-status", "approved")
    expect(head.locator("[data-batch-title]")).to_contain_text("ครั้งที่1-ปีงบประมาณ")
    assert head.locator("[data-batch-count]").inner_text() == "2"
    assert head.locator("[data-batch-total]").inner_text() == "8,000.00"
    expect(head.locator("[data-batch-cases]")).to_contain_text(child["case_no"])
    # Reporting builds the documents from its own tables: the page shows the links once ready.
    expect(head.locator("[data-documents]")).to_be_visible(timeout=90_000)
    shot(head, "batch-approved")

    # The agenda is empty again: the cases are locked in the batch.
    head.goto("/agenda/")
    assert head.locator("[data-count]").inner_text() == "0"

    # The report menu lists the batch; the approval report downloads as a PDF.
    head.goto("/reports/")
    row = head.locator(f'tr[data-batch="{batch_id}"]')
    expect(row).to_contain_text("ครั้งที่1-ปีงบประมาณ")
    expect(row).to_contain_text("อนุมัติแล้ว")
    expect(row).to_contain_text("8,000.00")
    assert str(fiscal_year(_bangkok_today())) in row.inner_text()
    shot(head, "report-menu")
    with head.expect_download() as download:
        row.locator("a", has_text="พิมพ์รายงาน").click()
    saved = tmp_path / "approval-report.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF-")
    head.goto(f"/reports/batches/{batch_id}")
    with head.expect_download() as download:
        head.click("a[data-doc=tk1-other-xlsx]")
    saved = tmp_path / "tk1-other.xlsx"
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"PK")

    # Finance sees the same batch in the report menu; the payout batch waits on its home page.
    finance = page_as("finance.1008")
    finance.goto("/reports/")
    expect(finance.locator(f'tr[data-batch="{batch_id}"]')).to_be_visible()
    _reload_until(finance, "/", finance.locator("[data-payouts] tr[data-payout]"))
    expect(finance.locator("[data-payouts]")).to_contain_text("ครั้งที่1-ปีงบประมาณ")
    shot(finance, "finance-home")


def _bangkok_today() -> dt.date:
    return dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).date()


def test_an_officer_of_another_district_sees_none_of_it(
    live: Any, page_as: Any, shot: Any, cases: dict[str, dict[str, Any]]
) -> None:
    child, adult = cases["child"], cases["adult"]
    token = _token(live, "officer.1008")
    # Make sure approval knows both cases, so "not shown" means "not visible", not "not there yet".
    for case in (child, adult):
        wait_for(
            lambda c=case: _api(live, token, "GET", f"/api/approval/cases/{c['id']}").status_code == 200,
            timeout=60,
            interval=0.3,
            what=f"approval knows {case['case_no']}",
        )
    other = page_as("officer.1001")
    other.goto("/agenda/")
    text = other.content()
    for case in (child, adult):
        assert case["case_no"] not in text
        assert case["first_name"] not in text
    shot(other, "other-district-agenda")
    for path in (f"/agenda/cases/{child['id']}/edit", f"/agenda/cases/{adult['id']}/disqualify"):
        response = other.goto(path)
        assert response is not None
        assert response.status == 404
    other.goto("/")
    assert child["case_no"] not in other.content()
    assert adult["case_no"] not in other.content()
    shot(other, "other-district-home")
    batch_id = STATE.get("batch_id")
    if batch_id:
        other.goto("/reports/")
        assert other.locator(f'tr[data-batch="{batch_id}"]').count() == 0
        assert "ครั้งที่1-ปีงบประมาณ" not in other.content()
        response = other.goto(f"/reports/batches/{batch_id}")
        assert response is not None
        assert response.status == 404
        r = _api(
            live,
            _token(live, "officer.1001"),
            "GET",
            f"/api/reporting/batches/{batch_id}/approval-report.pdf",
        )
        assert r.status_code == 404
        shot(other, "other-district-reports")
    # POSTing a decision on another district's case through the pages changes nothing.
    response = other.request.post(
        f"/agenda/cases/{child['id']}/defer",
        form={"csrf_token": other.locator("meta[name=csrf-token]").get_attribute("content")},
        max_redirects=0,
    )
    assert response.status == 303
    state = _api(live, token, "GET", f"/api/approval/cases/{child['id']}").json()["status"]
    assert state in ("on_agenda", "in_batch")


def test_central_office_and_operator_see_their_own_home_pages(
    live: Any, page_as: Any, shot: Any, cases: dict[str, dict[str, Any]]
) -> None:
    token = _token(live, "central.admin")
    # Reporting counts the cases once their events have reached it.
    wait_for(
        lambda: any(
            d["district_code"] == "1008" and d["cases"] >= 2
            for d in _api(live, token, "GET", "/api/reporting/summary").json()["by_district"]
        ),
        timeout=60,
        interval=0.5,
        what="reporting to count district 1008's cases",
    )
    central = page_as("central.admin")
    central.goto("/")
    stages = central.locator("[data-stages]")
    expect(stages).to_contain_text("ทั้งกรุงเทพมหานคร")
    expect(stages.locator("[data-by-district]")).to_contain_text("ป้อมปราบศัตรูพ่าย")
    assert central.locator("[data-deferred]").count() == 0
    shot(central, "central-home")
    batch_id = STATE.get("batch_id")
    if batch_id:  # the central office prints any district's documents
        central.goto("/reports/")
        row = central.locator(f'tr[data-batch="{batch_id}"]')
        expect(row).to_contain_text("1008")
        expect(row.locator("a", has_text="พิมพ์รายงาน")).to_be_visible()
        shot(central, "central-report-menu")

    operator = page_as("operator")
    operator.goto("/")
    expect(operator.locator("[data-operator] a")).to_have_attribute("href", "/operator/")
    assert operator.locator("[data-stages]").count() == 0
    assert operator.locator("nav.menu a", has_text="พิมพ์รายงานขออนุมัติเงิน").count() == 0
    for path in ("/agenda/", "/reports/"):
        response = operator.goto(path)
        assert response is not None
        assert response.status == 403
    shot(operator, "operator-refused-reports")


def test_a_closing_refused_by_intake_names_the_case_and_why(
    live: Any, page_as: Any, shot: Any, cases: dict[str, dict[str, Any]]
) -> None:
    """Intake refuses the lock of a case edited after the closing: the progress page says which and why."""
    officer_token = _token(live, "officer.1008")
    body = case_body(first_name="ทดสอบสาม", last_name="ถูกแก้ไข", welfare_type_code="MEDICAL", amount="2000.00")
    r = _api(live, officer_token, "POST", "/api/intake/cases", json=body)
    assert r.status_code == 201, r.text
    case = r.json()
    head = page_as("head.1008")
    _reload_until(head, "/agenda/", _row(head, case))
    live.system.kill("intake-worker")  # intake cannot lock before the officer's edit
    try:
        head.click("a[data-action=close]")
        head.wait_for_url("**/agenda/close")
        head.fill("input[name=meeting_date]", format_be_date(_bangkok_today()))
        head.once("dialog", lambda d: d.accept())
        with head.expect_navigation():
            head.click("form[data-close-form] button[type=submit]")
        expect(head.locator("[data-batch-status]")).to_have_attribute("data-batch-status", "locking")
        expect(head.locator("[data-job] .job-status")).to_contain_text("กำลังดำเนินการ")
        shot(head, "closing-waits-for-intake")
        edit = _api(
            live, officer_token, "PATCH", f"/api/intake/cases/{case['id']}", json={"amount": "2500.00"}
        )
        assert edit.status_code == 200, edit.text
    finally:
        live.system.start("intake-worker")
    # ecase.js follows the job; agenda.js reloads the page when it fails.
    failed = head.locator("[data-batch-failed]")
    expect(failed).to_be_visible(timeout=90_000)
    expect(failed).to_contain_text(case["case_no"])
    expect(failed).to_contain_text("จัดทำรายการอนุมัติไม่สำเร็จ")
    assert head.locator("[data-job]").count() == 0
    shot(head, "closing-refused")
    # Nothing was locked: the case is back on the agenda with the officer's new amount.
    _reload_until(head, "/agenda/", head.locator(f'tr[data-case="{case["case_no"]}"]:has-text("2,500.00")'))
    expect(head.locator("[data-closing]")).to_have_count(0)
