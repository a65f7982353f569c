"""Browser tests: one live E-Case (every web process, worker and relay of deploy/Procfile on the
embedded backend, as ``make run`` starts it) and Debian's Chromium driven by Playwright.

Never downloads a browser: Chromium is ``/usr/bin/chromium`` (``ECASE_CHROMIUM`` overrides), launched
headless with ``--no-sandbox``.  Screenshots go to ``test-artifacts/web/<test>/<nn>-<step>.png``.

Fixtures:
* ``live`` (module): the running system; ``live.base_url`` is the gateway.
* ``browser`` (session): the Chromium browser.
* ``page_as(username)``: a new page (own cookies) logged in through the login form.
* ``shot(page, step)``: save a numbered screenshot for the current test.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from services.gateway.demo import load_demo_users
from shared.testing.system import System

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "web"
CHROMIUM = os.environ.get("ECASE_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "ecase-demo-2566"
PROCESSES = (
    "gateway",
    "intake",
    "approval",
    "payment",
    "reporting",
    "intake-worker",
    "approval-worker",
    "payment-worker",
    "reporting-worker",
    "intake-relay",
    "approval-relay",
    "payment-relay",
    "reporting-relay",
)
KTB = {
    "ECASE_PAYMENT_KTB_COMPANY_ID": "TESTCO0001",
    "ECASE_PAYMENT_KTB_DEBIT_ACCOUNT": "1234567890",
    "ECASE_PAYMENT_KTB_SENDER_NAME": "WELFARE FUND TEST",
}


class Live:
    """The running system seen from a browser."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.base_url = system.url("gateway")

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"


def _seed(system: System) -> None:
    with system.sessions("gateway", write=True).begin() as s:
        load_demo_users(s)
    with system.environment():
        from services.intake.reference import load_reference_data

        with system.sessions("intake", write=True).begin() as s:
            load_reference_data(s)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Live]:
    """Every process of deploy/Procfile on the embedded backend, seeded with the demo users."""
    system = System(
        tmp_path_factory.mktemp("live"),
        backend="embedded",
        extra_env={**KTB, "ECASE_RETRY_BACKOFF_MAX": "1", "ECASE_LOGIN_MAX_FAILURES": "1000"},
    )
    system.migrate()
    _seed(system)
    system.start(*PROCESSES)
    try:
        for svc in ("gateway", "intake", "approval", "payment", "reporting"):
            system.wait_healthy(svc)
        for svc in ("intake", "approval", "payment", "reporting"):
            system.wait_worker(svc)
        yield Live(system)
    finally:
        system.close()
        items = [i for i in request.session.items if i.module is request.module]
        failed = any(getattr(item, "rep_call", None) and item.rep_call.failed for item in items)
        if failed:
            shutil.copytree(system.logdir, ARTIFACTS / f"{request.node.name}-logs", dirs_exist_ok=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page_as(browser: Any, live: Live) -> Iterator[Callable[..., Any]]:
    """``page_as("officer.1008")`` → a logged-in page in its own browser context."""
    contexts: list[Any] = []

    def login(username: str, password: str = PASSWORD) -> Any:
        context = browser.new_context(base_url=live.base_url, locale="th-TH", accept_downloads=True)
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda m: print(f"[browser {username}] {m.type}: {m.text}"))
        page.on("pageerror", lambda e: print(f"[browser {username}] page error: {e}"))
        page.goto("/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        with page.expect_navigation():
            page.click("main button[type=submit]")
        assert "/login" not in page.url, f"{username} could not log in"
        return page

    yield login
    for context in contexts:
        context.close()


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Callable[[Any, str], Path]:
    """``shot(page, "agenda")`` saves test-artifacts/web/<test>/<nn>-agenda.png."""
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    if folder.exists():
        shutil.rmtree(folder)
    counter = iter(range(1, 1000))

    def save(page: Any, step: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", step)
        path = folder / f"{next(counter):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
