"""Every role logs in through the browser, sees only its menu, and the home page shows the system's health."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_officer_logs_in_and_sees_the_home_page_in_thai(page_as: Any, shot: Any) -> None:
    page = page_as("officer.1008")
    assert page.locator("h1").inner_text() == "หน้าหลัก"
    assert "ป้อมปราบศัตรูพ่าย" in page.locator("header").inner_text()
    page.wait_for_selector("[data-health] li")
    assert "รับเรื่อง: พร้อมใช้งาน" in page.locator("[data-health]").inner_text()
    shot(page, "home")
    page.click("header button[type=submit]")
    page.wait_for_url("**/login")
    page.goto("/")
    assert "/login" in page.url
