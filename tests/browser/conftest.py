"""A real Chromium (Debian's package) driven by Playwright, and the dashboard
served on a free loopback port. Every page test fails on a console error or a
request to any host but the dashboard's own."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from dispatchmap.settings import DashboardSettings
from tests.helpers import served_dashboard

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        raise RuntimeError("chromium not found: run `make setup` (Debian package chromium)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def dashboard_url(db_url: str) -> Iterator[str]:
    """The dashboard on this test's database, served from a thread."""
    with served_dashboard(db_url, DashboardSettings(refresh_ms=500, demo=True)) as url:
        yield url


@pytest.fixture
def page(browser: Browser, dashboard_url: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1600, "height": 900})
    tab = context.new_page()
    # The machines are shared (2 cores): a page under load may take longer than
    # Playwright's default 30 s to settle; waiting longer weakens no assertion.
    tab.set_default_timeout(60_000)
    errors: list[str] = []
    foreign: list[str] = []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on(
        "request",
        lambda r: (
            None
            if r.url.startswith(dashboard_url) or r.url.startswith("data:")
            else foreign.append(r.url)
        ),
    )
    yield tab
    context.close()
    assert errors == [], f"console errors: {errors}"
    assert foreign == [], f"requests leaving the dashboard's host: {foreign}"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def sign_in(db_url: str, dashboard_url: str):
    """``sign_in(page, role)``: create a user with that role and sign in through /login."""
    import psycopg

    from usecases import access

    def go(tab: Page, role: str, next_path: str = "/desk") -> str:
        name = f"{role}1"
        with psycopg.connect(db_url) as conn:
            access.add_user(conn, name, role, "a long test password")
        tab.goto(f"{dashboard_url}/login?next={next_path}")
        tab.fill("input[name=name]", name)
        tab.fill("input[name=password]", "a long test password")
        tab.click("button[type=submit]")
        return name

    return go
