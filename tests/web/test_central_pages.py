"""Central office and operator pages in a real browser: users, catalogue, budgets, summary with
charts, the operator's queues, workers and dead-letter replay, and the Thai 403 page for others."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from shared.testing.system import wait_for
from shared.thai import fiscal_year
from tests.intake.support import case_body, house_id
from tests.web.conftest import PASSWORD, Live

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
BANGKOK = dt.timezone(dt.timedelta(hours=7))
NEW_PASSWORD = "a-first-password"


def this_fiscal_year() -> int:
    return fiscal_year(dt.datetime.now(BANGKOK).date())


def bearer(live: Live, username: str, password: str = PASSWORD) -> dict[str, str]:
    r = requests.post(
        live.url("/api/auth/token"), json={"username": username, "password": password}, timeout=30
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def accept_next_dialog(page: Any, messages: list[str]) -> None:
    def accept(dialog: Any) -> None:
        messages.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)


def test_central_admin_creates_a_user_who_logs_in_and_is_disabled(page_as: Any, shot: Any) -> None:
    admin = page_as("central.admin")
    menu = admin.locator("nav.menu").inner_text()
    for label in ("สรุปภาพรวม", "ผู้ใช้และสิทธิ์", "สำนักงานเขต", "ประเภทความช่วยเหลือและโครงการ", "งบประมาณ"):
        assert label in menu
    admin.click("nav.menu >> text=ผู้ใช้และสิทธิ์")
    expect(admin.locator("table[data-users] tr[data-username='officer.1008']")).to_be_visible()
    shot(admin, "users")

    username = f"officer.1001.{uuid.uuid4().hex[:6]}"
    admin.click("a[data-new-user]")
    admin.fill("input[name=username]", username)
    admin.fill("input[name=full_name]", "สมหญิง ทดลองงาน")
    admin.select_option("select[name=role]", "officer")
    # A district role without a district: the Thai error is beside the district field.
    admin.fill("input[name=password]", NEW_PASSWORD)
    admin.fill("input[name=password_again]", NEW_PASSWORD)
    admin.click("main form button[type=submit]")
    error = admin.locator("[data-field=district_code] .field-error")
    expect(error).to_have_text("กรุณาระบุสำนักงานเขตให้ถูกต้อง")
    shot(admin, "district-required")

    admin.select_option("select[name=district_code]", "1001")
    admin.fill("input[name=password]", NEW_PASSWORD)
    admin.fill("input[name=password_again]", NEW_PASSWORD)
    admin.click("main form button[type=submit]")
    expect(admin.locator("h1")).to_have_text(f"ผู้ใช้ {username}")
    expect(admin.locator(".flash.ok")).to_contain_text(f"เพิ่มผู้ใช้ {username} แล้ว")
    assert "สำนักงานเขตพระนคร" in admin.locator("main").inner_text()
    shot(admin, "user-created")

    officer = page_as(username, NEW_PASSWORD)
    assert "พระนคร" in officer.locator("header").inner_text()
    shot(officer, "new-user-logged-in")

    messages: list[str] = []
    accept_next_dialog(admin, messages)
    admin.click("button[data-disable]")
    expect(admin.locator("[data-state]")).to_have_text("ถูกระงับ")
    assert messages
    assert "ระงับบัญชี" in messages[0]
    shot(admin, "user-disabled")

    officer.reload()
    officer.wait_for_url("**/login**")  # the session ended at once
    shot(officer, "session-ended")
    officer.fill("input[name=username]", username)
    officer.fill("input[name=password]", NEW_PASSWORD)
    officer.click("main button[type=submit]")
    expect(officer.locator("main")).to_contain_text("ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง")

    admin.goto(f"/central/users?district_code=1001&active=false&q={username}")
    expect(admin.locator(f"tr[data-username='{username}']")).to_contain_text("ถูกระงับ")
    shot(admin, "disabled-in-list")


def test_welfare_card_roles_get_a_province_an_agency_or_a_district_outside_bangkok(
    page_as: Any, shot: Any
) -> None:
    """The users page offers the scope each role takes: the provincial secretariat a province, an
    agency recorder an agency, the district team any อำเภอ of Thailand; the others are hidden."""
    admin = page_as("central.admin")
    admin.goto("/central/users/new")
    form = admin.locator("form[data-user-form]")
    # An officer takes a Bangkok district office: no province, no agency, no อำเภอ outside Bangkok.
    admin.select_option("select[name=role]", "officer")
    expect(form.locator("[data-scope=province]")).to_be_hidden()
    expect(form.locator("[data-scope=agency]")).to_be_hidden()
    assert form.locator("optgroup[data-outside-bangkok]").first.is_disabled()

    # The provincial secretariat without a province: the Thai error is beside the province field.
    secretariat = f"secretariat.24.{uuid.uuid4().hex[:6]}"
    admin.fill("input[name=username]", secretariat)
    admin.fill("input[name=full_name]", "ฝ่ายเลขานุการ ทดลอง")
    admin.select_option("select[name=role]", "provincial_secretariat")
    expect(form.locator("[data-scope=district]")).to_be_hidden()
    expect(form.locator("[data-scope=agency]")).to_be_hidden()
    admin.fill("input[name=password]", NEW_PASSWORD)
    admin.fill("input[name=password_again]", NEW_PASSWORD)
    admin.click("main form button[type=submit]")
    expect(admin.locator("[data-field=province_code] .field-error")).to_have_text("กรุณาระบุจังหวัด")
    admin.select_option("select[name=province_code]", "24")
    admin.fill("input[name=password]", NEW_PASSWORD)
    admin.fill("input[name=password_again]", NEW_PASSWORD)
    admin.click("main form button[type=submit]")
    expect(admin.locator("h1")).to_have_text(f"ผู้ใช้ {secretariat}")
    assert "จังหวัดฉะเชิงเทรา" in admin.locator("main section.card").first.inner_text()
    shot(admin, "secretariat-created")

    # Changing the role to an agency recorder asks for the agency; the province stays optional.
    admin.select_option("select[name=role]", "agency_recorder")
    expect(form.locator("[data-scope=agency]")).to_be_visible()
    admin.select_option("select[name=agency]", "cdd")
    admin.click("form[data-user-form] button[type=submit]")
    expect(admin.locator(".flash.ok")).to_contain_text("บันทึกข้อมูลผู้ใช้แล้ว")
    summary = admin.locator("main section.card").first.inner_text()
    assert "กรมการพัฒนาชุมชน" in summary
    assert "จังหวัดฉะเชิงเทรา" in summary

    # The district team works in any district of Thailand: อำเภอบางคล้า (2402) of Chachoengsao.
    admin.select_option("select[name=role]", "district_team")
    expect(form.locator("[data-scope=province]")).to_be_hidden()
    assert not form.locator("optgroup[data-outside-bangkok]").first.is_disabled()
    admin.select_option("select[name=district_code]", "2402")
    admin.click("form[data-user-form] button[type=submit]")
    expect(admin.locator(".flash.ok")).to_contain_text("บันทึกข้อมูลผู้ใช้แล้ว")
    assert "อำเภอบางคล้า (2402)" in admin.locator("main section.card").first.inner_text()
    admin.goto(f"/central/users?q={secretariat}")
    scope = admin.locator(f"tr[data-username='{secretariat}'] td[data-scope]")
    expect(scope).to_have_text("อำเภอบางคล้า (2402)")
    shot(admin, "district-team-outside-bangkok")


def test_welfare_type_ceiling_is_edited_and_a_negative_one_is_refused(page_as: Any, shot: Any) -> None:
    admin = page_as("central.admin")
    admin.goto("/central/catalogue")
    expect(admin.locator("table[data-welfare-types] tr[data-code=SCHOLARSHIP]")).to_be_visible()
    shot(admin, "catalogue")
    admin.click("tr[data-code=SCHOLARSHIP] >> text=แก้ไข")
    expect(admin.locator("h1")).to_have_text("แก้ไขประเภทความช่วยเหลือ SCHOLARSHIP")
    admin.fill("input[name=ceiling]", "6,500")
    admin.click("main form button[type=submit]")
    expect(admin.locator(".flash.ok")).to_contain_text("บันทึกประเภทความช่วยเหลือ SCHOLARSHIP แล้ว")
    expect(admin.locator("tr[data-code=SCHOLARSHIP] [data-ceiling]")).to_contain_text("6,500.00")
    shot(admin, "ceiling-saved")

    admin.click("tr[data-code=SCHOLARSHIP] >> text=แก้ไข")
    admin.fill("input[name=ceiling]", "-100")
    admin.click("main form button[type=submit]")
    error = admin.locator("[data-field=ceiling] .field-error")
    expect(error).to_contain_text("จำนวนเงินต้องเป็นตัวเลขอารบิก")
    expect(admin.locator("input[name=ceiling]")).to_have_value("-100")
    shot(admin, "negative-ceiling-refused")
    admin.goto("/central/catalogue")
    expect(admin.locator("tr[data-code=SCHOLARSHIP] [data-ceiling]")).to_contain_text("6,500.00")

    # A programme: a fiscal year outside the Buddhist era is refused beside its field, then a fix saves.
    admin.click("tr[data-code=COVID19_CAREER] >> text=แก้ไข")
    admin.fill("input[name=excluded_fiscal_year]", "2021")
    admin.click("main form button[type=submit]")
    expect(admin.locator("[data-field=excluded_fiscal_year] .field-error")).to_contain_text("ต้องไม่น้อยกว่า")
    shot(admin, "programme-year-refused")
    admin.fill("input[name=excluded_fiscal_year]", "2565")
    admin.click("main form button[type=submit]")
    expect(admin.locator(".flash.ok")).to_contain_text("บันทึกโครงการ COVID19_CAREER แล้ว")
    expect(admin.locator("table[data-programmes] tr[data-code=COVID19_CAREER]")).to_contain_text(
        "CAREER ในปีงบประมาณ 2565"
    )
    shot(admin, "programme-saved")


def test_budget_is_set_and_the_summary_shows_charts(page_as: Any, shot: Any, live: Live) -> None:
    year = this_fiscal_year()
    # Two cases through the API, one per district, so the summary has something to draw.
    for username, body in (
        ("officer.1008", case_body(amount="3000.00")),
        ("officer.1001", case_body(welfare_type_code="CAREER", amount="5000.00", house_id=house_id())),
    ):
        r = requests.post(
            live.url("/api/intake/cases"), json=body, headers=bearer(live, username), timeout=30
        )
        assert r.status_code == 201, r.text

    admin = page_as("central.admin")
    admin.click("nav.menu >> text=งบประมาณ")
    expect(admin.locator("h1")).to_have_text(f"งบประมาณ ปีงบประมาณ {year}")
    assert admin.locator("table[data-budgets] tbody tr").count() == 50
    row = admin.locator("tr[data-district='1001']")
    row.locator("input[name=amount]").fill("-5")
    row.locator("button").click()
    expect(admin.locator("tr[data-district='1001'] .field-error")).to_contain_text(
        "จำนวนเงินต้องเป็นข้อความตัวเลขอารบิก"
    )
    shot(admin, "budget-refused")
    row = admin.locator("tr[data-district='1001']")
    row.locator("input[name=amount]").fill("1,500,000")
    row.locator("button").click()
    expect(admin.locator(".flash.ok")).to_contain_text(f"บันทึกงบประมาณปี {year} ของเขตพระนคร แล้ว")
    expect(admin.locator("tr[data-district='1001'] [data-allocated]")).to_have_text("1,500,000.00")
    shot(admin, "budget-set")

    headers = bearer(live, "central.admin")

    def both_cases_reported() -> bool:
        r = requests.get(
            live.url("/api/reporting/summary"), params={"fiscal_year": year}, headers=headers, timeout=30
        )
        districts = {d["district_code"] for d in r.json().get("by_district", [])}
        return r.status_code == 200 and {"1001", "1008"} <= districts

    wait_for(both_cases_reported, timeout=60, what="reporting has both cases")
    admin.click("nav.menu >> text=สรุปภาพรวม")
    admin.fill("input[name=fiscal_year]", str(year))
    admin.click("form[data-summary-filter] button[type=submit]")
    expect(admin.locator("h1")).to_have_text(f"สรุปภาพรวม ปีงบประมาณ {year}")
    charts = admin.locator("figure[data-chart] svg")
    expect(charts).to_have_count(4)
    district_chart = charts.nth(0)
    assert district_chart.locator("rect[data-bar]").count() >= 4  # requested and paid, two districts
    labels = district_chart.text_content()
    assert "พระนคร" in labels
    assert "ป้อมปราบศัตรูพ่าย" in labels
    assert "ทุนประกอบอาชีพ" in charts.nth(1).text_content()
    assert charts.nth(2).locator("rect[data-bar]").count() >= 2
    totals = admin.locator("[data-totals]").inner_text()
    assert "8,000.00" in totals
    budgets = admin.locator("table[data-summary-budgets]").inner_text()
    assert "1,500,000.00" in budgets
    shot(admin, "summary")

    with admin.expect_download() as download:
        admin.click("a[data-xlsx]")
    assert download.value.suggested_filename == f"summary-{year}-all.xlsx"
    with open(download.value.path(), "rb") as f:
        assert f.read(2) == b"PK"  # an XLSX is a zip

    admin.select_option("select[name=district_code]", "1008")
    admin.click("form[data-summary-filter] button[type=submit]")
    expect(admin.locator("h1")).to_contain_text("สำนักงานเขตป้อมปราบศัตรูพ่าย")
    assert "พระนคร" not in admin.locator("figure[data-chart] svg").nth(0).text_content()
    shot(admin, "summary-one-district")

    admin.goto("/central/summary?fiscal_year=1999")
    expect(admin.locator("[data-field=fiscal_year] .field-error")).to_contain_text("ปีงบประมาณต้องเป็นปี พ.ศ.")
    shot(admin, "summary-bad-year")


def test_districts_page_lists_the_fifty(page_as: Any, shot: Any) -> None:
    admin = page_as("central.admin")
    admin.click("nav.menu >> text=สำนักงานเขต")
    expect(admin.locator("table[data-districts] tbody tr")).to_have_count(50)
    assert "สำนักงานเขตพระนคร" in admin.locator("table[data-districts]").inner_text()
    shot(admin, "districts")


def test_operator_sees_queues_workers_and_replays_a_dead_letter(page_as: Any, shot: Any, live: Live) -> None:
    system = live.system
    # A probe that fails on purpose ends in approval's dead letters (faults allowed for this step only).
    system.stop("intake")
    system.stop("approval-worker")
    system.env["ECASE_ALLOW_FAULTS"] = "1"
    system.start("intake", "approval-worker")
    system.wait_healthy("intake")
    system.wait_worker("approval")
    operator_headers = bearer(live, "operator")
    key = f"page-{uuid.uuid4().hex[:8]}"
    r = requests.post(
        live.url("/api/intake/ops/probe"),
        json={"key": key, "queue": "approval", "fault": "raise"},
        headers=operator_headers,
        timeout=30,
    )
    assert r.status_code == 202, r.text

    def parked() -> list[dict[str, Any]]:
        items = requests.get(live.url("/api/ops/dead-letters"), headers=operator_headers, timeout=30).json()
        return [i for i in items["items"] if i["status"] == "parked"]

    [letter] = wait_for(parked, timeout=90, what="the failing probe in dead letters")
    # The cause is fixed: the worker runs again without the fault switch.
    system.stop("approval-worker")
    system.env["ECASE_ALLOW_FAULTS"] = "0"
    system.start("approval-worker")
    system.wait_worker("approval")

    page = page_as("operator")
    page.click("nav.menu >> text=ระบบปฏิบัติการ")
    expect(page.locator("h1")).to_have_text("ระบบปฏิบัติการ")
    queues = page.locator("table[data-queues] tbody tr")
    expect(queues).to_have_count(4)
    for service in ("intake", "approval", "payment", "reporting"):
        row = page.locator(f"tr[data-service={service}]")
        expect(row.locator("[data-depth]")).to_have_text(re.compile(r"^[0-9,]+$"))
        assert "ปกติ" in row.inner_text()
    workers = page.locator("table[data-workers]")
    for service in ("intake", "approval", "payment", "reporting"):
        expect(workers.locator(f"tr[data-worker={service}] >> text=ทำงานอยู่").first).to_be_visible()
    expect(page.locator("[data-flower-unconfigured]")).to_contain_text("ยังไม่ได้ตั้งค่า ECASE_FLOWER_URL")
    assert page.locator("[data-flower] a").get_attribute("href") == "http://127.0.0.1:5555"
    failures = page.locator("table[data-failures]").inner_text()
    assert "probe fault" in failures
    dead = page.locator(f"tr[data-dead-letter='{letter['id']}']")
    expect(dead).to_contain_text("ops.probe")
    shot(page, "operator")

    # Dismissing the confirmation changes nothing.
    page.once("dialog", lambda d: d.dismiss())
    dead.locator("button").click()
    expect(dead).to_be_visible()
    messages: list[str] = []
    accept_next_dialog(page, messages)
    dead.locator("button").click()
    expect(page.locator(".flash.ok")).to_contain_text(f"ส่งข้อความ {letter['id']} (ops.probe) ใหม่แล้ว")
    assert messages
    assert f"ส่งข้อความ {letter['id']} (ops.probe) ใหม่อีกครั้ง" in messages[0]
    expect(page.locator(f"tr[data-dead-letter='{letter['id']}']")).to_have_count(0)
    expect(page.locator("table[data-replayed]")).to_contain_text("operator")
    shot(page, "replayed")
    wait_for(
        lambda: (
            requests.get(
                live.url(f"/api/approval/ops/probes/{key}"), headers=operator_headers, timeout=30
            ).status_code
            == 200
        ),
        timeout=60,
        what="the replayed probe applied",
    )

    # The central office sees the page but cannot replay.
    admin = page_as("central.admin")
    admin.goto("/operator/")
    expect(admin.locator("table[data-queues] tbody tr")).to_have_count(4)
    assert admin.locator("table[data-dead-letters] button").count() == 0
    assert "ดูได้อย่างเดียว" in admin.locator("main").inner_text()
    shot(admin, "operator-read-only")


@pytest.mark.parametrize(
    "path", ["/central/", "/central/users", "/central/budgets", "/central/summary", "/operator/"]
)
def test_an_officer_gets_the_thai_403_page(page_as: Any, shot: Any, path: str) -> None:
    officer = page_as("officer.1008")
    assert "ผู้ใช้และสิทธิ์" not in officer.locator("nav.menu").inner_text()
    assert "ระบบปฏิบัติการ" not in officer.locator("nav.menu").inner_text()
    response = officer.goto(path)
    assert response.status == 403
    expect(officer.locator("h1")).to_have_text("คุณไม่มีสิทธิ์ใช้งานหน้านี้")
    shot(officer, "forbidden")
