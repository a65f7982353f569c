"""The state welfare card measure's pages in a real browser: the public self-check (no login, check
digit first, the same answer for unknown IDs, the Thai 429 when throttled), the participants list
import with progress, recording a development result and a follow-up, registration places and an
intent (แบบย่อ), and the MIS summary with its server-side SVG charts and XLSX download."""

from __future__ import annotations

import base64
import datetime as dt
import io
import random
import uuid
import zlib
from pathlib import Path
from typing import Any

import pytest
import requests
from openpyxl import load_workbook
from playwright.sync_api import expect

from shared.testing.system import wait_for
from shared.thai import national_id_check_digit
from tests.web.conftest import PASSWORD, Live

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
RNG = random.Random(2562)
BANGKOK = dt.timezone(dt.timedelta(hours=7))


def nid() -> str:
    first12 = str(RNG.randint(1, 8)) + "".join(str(RNG.randint(0, 9)) for _ in range(11))
    return first12 + str(national_id_check_digit(first12))


def readable_cookie(value: str) -> str:
    """A cookie's value with Flask's signed-session payload decoded (base64, zlib if it starts
    with a dot): signing does not hide anything."""
    compressed = value.startswith(".")
    payload = value.lstrip(".").split(".")[0]
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        text = (zlib.decompress(raw) if compressed else raw).decode("utf-8", "replace")
    except (ValueError, zlib.error):
        text = ""
    return f"{value} {text}"


def wrong_check_digit(national_id: str) -> str:
    return national_id[:12] + str((int(national_id[12]) + 1) % 10)


def spaced(national_id: str) -> str:
    """As people write it: 1-2345-67890-12-1."""
    n = national_id
    return f"{n[0]}-{n[1:5]}-{n[5:10]}-{n[10:12]}-{n[12]}"


def bearer(live: Live, username: str, password: str = PASSWORD) -> dict[str, str]:
    r = requests.post(
        live.url("/api/auth/token"), json={"username": username, "password": password}, timeout=30
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def create_user(live: Live, role: str, **scope: str) -> str:
    """A user of the measure's roles, made by the central office through the admin API."""
    username = f"{role.replace('_', '-')}.{uuid.uuid4().hex[:6]}"
    body = {"username": username, "full_name": f"ทดสอบ {role}", "role": role, "password": PASSWORD, **scope}
    r = requests.post(
        live.url("/api/admin/users"), json=body, headers=bearer(live, "central.admin"), timeout=30
    )
    assert r.status_code == 201, r.text
    return username


def csv_list(rows: list[tuple[str, str, str, str, str]]) -> bytes:
    """A participants list: national ID, first name, last name, district code, group."""
    lines = ["เลขประจำตัวประชาชน,ชื่อ,นามสกุล,รหัสเขต/อำเภอ,กลุ่ม"]
    lines += [",".join(r) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def import_by_api(live: Live, rows: list[tuple[str, str, str, str, str]], *, agency: str = "gsb") -> None:
    admin = bearer(live, "central.admin")
    r = requests.post(
        live.url("/api/intake/welfare-card/imports"),
        data={"province_code": "10", "agency": agency},
        files={"file": ("list.csv", csv_list(rows), "text/csv")},
        headers=admin,
        timeout=60,
    )
    assert r.status_code == 202, r.text
    import_id = r.json()["import_id"]

    def done() -> bool:
        got = requests.get(
            live.url(f"/api/intake/welfare-card/imports/{import_id}"), headers=admin, timeout=30
        )
        assert got.json()["status"] in ("queued", "done"), got.text
        return got.json()["status"] == "done"

    wait_for(done, timeout=60, interval=0.5, what="the import is applied")


def summary_of(live: Live, **params: str) -> dict[str, Any]:
    r = requests.get(
        live.url("/api/reporting/welfare-card/summary"),
        params=params,
        headers=bearer(live, "central.admin"),
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def people(live: Live) -> dict[str, str]:
    """Two participants of Pom Prap Sattru Phai (1008), one of Phra Nakhon (1001), and a place in 1008."""
    found = {"a": nid(), "b": nid(), "c": nid()}
    import_by_api(
        live,
        [
            (found["a"], "สมหญิง", "ทดลองดี", "1008", "1"),
            (found["b"], "สมชาย", "ทดลองดี", "1008", "2"),
            (found["c"], "สมศรี", "ทดลองดี", "1001", "1"),
        ],
    )
    r = requests.post(
        live.url("/api/intake/welfare-card/registration-places"),
        json={"area_code": "1008", "name": "สำนักงานเขตป้อมปราบศัตรูพ่าย ชั้น 1", "address": "ถนนหลวง"},
        headers=bearer(live, "central.admin"),
        timeout=30,
    )
    assert r.status_code == 201, r.text
    return found


def test_a_development_result_and_a_follow_up_reach_the_summary_with_its_charts(
    live: Live, people: dict[str, str], page_as: Any, shot: Any
) -> None:
    recorder = create_user(live, "agency_recorder", agency="gsb", province_code="10")
    page = page_as(recorder)
    page.click("nav.menu >> text=โครงการพัฒนา")
    page.fill("input[name=name_th]", "ฝึกอาชีพการทำขนมไทย")
    page.click("form[data-project-form] button[type=submit]")
    expect(page.locator(".flash.ok")).to_contain_text("ฝึกอาชีพการทำขนมไทย")

    page.click("nav.menu >> text=ผู้เข้าร่วมมาตรการ")
    expect(page.locator("table[data-participants] tbody tr")).to_have_count(
        3
    )  # the recorder's agency in Bangkok
    assert people["a"] not in page.content()  # lists show masked IDs only
    page.fill("form[data-open-participant] input[name=national_id]", wrong_check_digit(people["a"]))
    page.click("form[data-open-participant] button[type=submit]")
    expect(page.locator("[data-field=national_id] .field-error")).to_contain_text("เลขตรวจสอบ")
    page.fill("form[data-open-participant] input[name=national_id]", spaced(people["a"]))
    page.click("form[data-open-participant] button[type=submit]")
    expect(page.locator("h1")).to_have_text("สมหญิง ทดลองดี")
    assert "national_id" not in page.url
    assert people["a"] not in page.url
    # The participant being viewed is kept server-side, not in the cookie the browser stores.
    for cookie in page.context.cookies():
        assert people["a"] not in readable_cookie(cookie["value"]), cookie["name"]
    form = page.locator("form[data-development-form]")
    form.locator("select[name=project]").select_option(label="ฝึกอาชีพการทำขนมไทย (ธนาคารออมสิน)")
    form.locator("select[name=result]").select_option("completed")
    form.locator("input[name=recorded_on]").fill("31/02/2562")
    form.locator("button[type=submit]").click()
    expect(page.locator("form[data-development-form] [data-field=recorded_on] .field-error")).to_contain_text(
        "ไม่มีวันที่นี้ในปฏิทิน"
    )
    page.locator("form[data-development-form] input[name=recorded_on]").fill("20/06/2562")
    page.locator("form[data-development-form] button[type=submit]").click()
    expect(page.locator(".flash.ok")).to_contain_text("บันทึกผลการพัฒนาแล้ว")
    expect(page.locator("table[data-developments] tbody tr")).to_have_count(1)
    expect(page.locator("table[data-developments]")).to_contain_text("20/06/2562")
    shot(page, "development-recorded")

    team = page_as(create_user(live, "district_team", district_code="1008"))
    team.click("nav.menu >> text=ผู้เข้าร่วมมาตรการ")
    team.fill("form[data-open-participant] input[name=national_id]", people["b"])
    team.click("form[data-open-participant] button[type=submit]")
    form = team.locator("form[data-follow-up-form]")
    form.locator("select[name=progress]").select_option("progressing")
    form.locator("input[name=recorded_on]").fill("25/06/2562")
    form.locator("button[type=submit]").click()
    expect(team.locator(".flash.ok")).to_contain_text("บันทึกผลการติดตามแล้ว")
    expect(team.locator("table[data-follow-ups]")).to_contain_text("รอบเดือนมิถุนายน 2562")
    assert team.locator("form[data-development-form]").count() == 0  # a district team records no results

    def reported() -> bool:
        data = summary_of(live, area_code="1008")
        return data["totals"]["developed"] == 1 and data["follow_up_rounds"][0]["followed_up"] == 1

    wait_for(reported, timeout=60, interval=0.5, what="reporting has the result and the follow-up")

    admin = page_as("central.admin")
    admin.click("nav.menu >> text=สรุปมาตรการบัตรสวัสดิการแห่งรัฐ")
    expect(admin.locator("[data-total=participants] strong")).to_have_text("3")
    expect(admin.locator("[data-total=developed]")).to_contain_text("33.33%")
    charts = admin.locator("figure[data-chart] svg")
    assert charts.count() >= 4
    expect(admin.locator("figure[data-chart] svg rect[data-bar] title").first).to_contain_text("กรุงเทพมหานคร")
    shot(admin, "summary-national")
    admin.select_option("select[name=province_code]", "10")  # the page sends the filter at once
    expect(admin.locator("select[name=area_code]")).to_be_visible()
    admin.select_option("select[name=area_code]", "1008")
    admin.click("form[data-summary-filter] button[type=submit]")
    expect(admin.locator("[data-scope]")).to_contain_text("เขตป้อมปราบศัตรูพ่าย")
    expect(admin.locator("[data-total=participants] strong")).to_have_text("2")
    row = admin.locator("table[data-table=follow-up] tr[data-round='2019-06']")
    expect(row).to_contain_text("50.00%")
    shot(admin, "summary-1008")
    with admin.expect_download() as download:
        admin.click("a[data-xlsx]")
    workbook = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    front = {r[0]: r[1] for r in workbook["สรุป"].iter_rows(values_only=True) if r[0]}
    assert front["เขต/อำเภอ"] == "เขตป้อมปราบศัตรูพ่าย"
    assert front["พัฒนาแล้วเสร็จ (ราย)"] == 1

    team_summary = team.goto(live.url("/welfare-card/"))
    assert team_summary is not None
    assert team_summary.status == 200
    expect(team.locator("[data-scope]")).to_contain_text("เขตป้อมปราบศัตรูพ่าย")
    assert team.locator("select[name=province_code]").count() == 0


def test_an_import_shows_its_progress_then_the_refused_lines_or_the_counts(
    live: Live, page_as: Any, shot: Any, tmp_path: Any
) -> None:
    page = page_as("central.admin")
    page.click("nav.menu >> text=นำเข้ารายชื่อผู้เข้าร่วม")
    bad = tmp_path / "bad.csv"
    good_id = nid()
    bad.write_bytes(
        csv_list([(good_id, "ก", "ข", "1008", "1"), (wrong_check_digit(nid()), "ค", "ง", "1008", "1")])
    )
    page.select_option("select[name=province_code]", "10")
    page.select_option("select[name=agency]", "cdd")
    page.set_input_files("input[name=file]", str(bad))
    page.click("form[data-import-form] button[type=submit]")
    expect(page.locator("[data-import-status=rejected]")).to_be_visible(timeout=60_000)
    expect(page.locator("table[data-rejected] tbody tr")).to_have_count(1)
    expect(page.locator("table[data-rejected] tbody tr td").first).to_have_text("3")  # line 3 of the file
    shot(page, "import-rejected")

    good = tmp_path / "good.csv"
    good.write_bytes(csv_list([(good_id, "ก", "ข", "1008", "1"), (nid(), "ค", "ง", "1001", "2")]))
    page.click("nav.menu >> text=นำเข้ารายชื่อผู้เข้าร่วม")
    page.select_option("select[name=province_code]", "10")
    page.select_option("select[name=agency]", "cdd")
    page.set_input_files("input[name=file]", str(good))
    page.click("form[data-import-form] button[type=submit]")
    expect(page.locator("[data-import-status=done]")).to_be_visible(timeout=60_000)
    expect(page.locator("tr[data-count=added] td")).to_have_text("2")
    shot(page, "import-done")


def test_a_district_adds_a_registration_place_and_an_officer_records_an_intent(
    live: Live, page_as: Any, shot: Any
) -> None:
    team = page_as(create_user(live, "district_team", district_code="1001"))
    team.click("nav.menu >> text=สถานที่รับแจ้งความประสงค์")
    team.click("form[data-place-form] button[type=submit]")
    expect(team.locator("form[data-place-form] [data-field=name] .field-error")).to_be_visible()
    team.fill("form[data-place-form] input[name=name]", "สำนักงานเขตพระนคร ฝ่ายพัฒนาชุมชน")
    team.click("form[data-place-form] button[type=submit]")
    expect(team.locator(".flash.ok")).to_contain_text("สำนักงานเขตพระนคร ฝ่ายพัฒนาชุมชน")
    expect(team.locator("table[data-places]")).to_contain_text("แสดงต่อประชาชน")
    shot(team, "place-added")

    officer = page_as("officer.1001")
    officer.click("nav.menu >> text=แจ้งความประสงค์ (แบบย่อ)")
    person = nid()
    officer.fill("input[name=national_id]", person)
    officer.fill("input[name=first_name]", "มานี")
    officer.fill("input[name=last_name]", "มีใจ")
    officer.select_option("select[name=agency]", "mol")
    officer.select_option("select[name=place_id]", label="สำนักงานเขตพระนคร ฝ่ายพัฒนาชุมชน")
    officer.fill("input[name=registered_on]", "04/03/2562")
    officer.click("form[data-intent-form] button[type=submit]")
    expect(officer.locator(".flash.ok")).to_contain_text("มานี มีใจ")
    expect(officer.locator("table[data-intents] tbody tr").first).to_contain_text("04/03/2562")
    assert person not in officer.locator("table[data-intents]").inner_text()  # masked in the list
    shot(officer, "intent-recorded")


def test_the_public_check_needs_no_login_and_tells_only_participation_group_and_places(
    live: Live, people: dict[str, str], browser: Any, shot: Any
) -> None:
    context = browser.new_context(base_url=live.base_url, locale="th-TH")
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        page.goto("/welfare-card/check")
        assert "/login" not in page.url
        expect(page.locator("h1")).to_contain_text("ตรวจสอบสิทธิ์การเข้าร่วมมาตรการ")
        assert page.locator("nav.menu").count() == 0

        page.fill("input[name=national_id]", wrong_check_digit(people["a"]))
        page.click("form[data-public-check] button[type=submit]")
        expect(page.locator("[data-field=national_id] .field-error")).to_contain_text("เลขตรวจสอบ")
        assert page.locator("[data-check-result]").count() == 0
        shot(page, "check-digit")

        page.fill("input[name=national_id]", spaced(people["b"]))
        page.click("form[data-public-check] button[type=submit]")
        result = page.locator("[data-check-result=participant]")
        expect(result).to_contain_text("เป็นผู้เข้าร่วมมาตรการ")
        expect(page.locator("[data-check-group]")).to_contain_text(
            "ผ่านการพัฒนาแล้ว แต่ยังมีรายได้ไม่เกิน 30,000 บาทต่อปี"
        )
        expect(page.locator("[data-check-places]")).to_contain_text("สำนักงานเขตป้อมปราบศัตรูพ่าย ชั้น 1")
        text = result.inner_text()
        assert "สมชาย" not in text
        assert people["b"] not in text
        shot(page, "participant")

        page.fill("input[name=national_id]", nid())
        page.click("form[data-public-check] button[type=submit]")
        expect(page.locator("[data-check-result=not-participant]")).to_contain_text("ไม่พบรายชื่อ")
        assert page.locator("[data-check-places]").count() == 0
        shot(page, "unknown")

        # The API and the page share one limit per client: use it up, then the page says so in Thai.
        url = live.url(f"/api/public/welfare-card/{nid()}")
        statuses = [requests.get(url, timeout=30).status_code for _ in range(25)]
        assert statuses[-1] == 429
        page.fill("input[name=national_id]", people["a"])
        page.click("form[data-public-check] button[type=submit]")
        expect(page.locator("[data-throttled]")).to_contain_text("บ่อยเกินไป")
        assert page.locator("[data-check-result]").count() == 0
        shot(page, "throttled")
    finally:
        context.close()
