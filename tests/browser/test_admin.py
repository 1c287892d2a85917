"""The admin page in a real Chromium, served outside demo mode (so the wall
needs a token): an admin adds a user (a bad field is refused next to it),
disables it, creates a wall token that opens /wall in a fresh browser, then
revokes it and the wall is refused."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from dashboard.auth import WALL_COOKIE
from dispatchmap.settings import DashboardSettings
from tests.helpers import http_status, served_dashboard
from usecases import access

PASSWORD = "a long admin password"


@pytest.fixture
def site(db_url: str) -> Iterator[str]:
    """The dashboard outside demo mode on this test's database."""
    with served_dashboard(db_url, DashboardSettings(refresh_ms=500, demo=False)) as url:
        yield url


@pytest.fixture
def fresh(browser: Browser, site: str) -> Iterator[Callable[[], tuple[BrowserContext, Page]]]:
    """``fresh()``: a new browser context (no cookies) and a tab in it. At the
    end no tab may have logged a console error or asked any other host."""
    errors: list[str] = []
    foreign: list[str] = []
    contexts: list[BrowserContext] = []

    def make() -> tuple[BrowserContext, Page]:
        context = browser.new_context(viewport={"width": 1600, "height": 1000})
        contexts.append(context)
        tab = context.new_page()
        tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.on("request", lambda r: None if r.url.startswith(site) else foreign.append(r.url))
        return context, tab

    yield make
    for context in contexts:
        context.close()
    assert errors == [], f"console errors: {errors}"
    assert foreign == [], f"requests leaving the dashboard's host: {foreign}"


def choose(tab: Page, dropdown_id: str, option: str) -> None:
    tab.click(f"#{dropdown_id}")
    tab.get_by_role("option", name=option, exact=True).click()


def wall_context_cookie(url: str, site: str) -> list[dict]:
    """The wall-token cookie a screen that opened ``url`` holds."""
    return [{"name": WALL_COOKIE, "value": url.split("token=", 1)[1], "url": site}]


def test_admin_adds_a_user_and_a_wall_token_opens_then_is_refused(fresh, site, db_url, artifacts):
    with psycopg.connect(db_url) as conn:
        access.add_user(conn, "boss", "admin", PASSWORD)
    _, admin_tab = fresh()
    admin_tab.goto(f"{site}/login?next=/admin")
    admin_tab.fill("input[name=name]", "boss")
    admin_tab.fill("input[name=password]", PASSWORD)
    admin_tab.click("button[type=submit]")
    expect(admin_tab.locator(".admin-users")).to_contain_text("boss")

    admin_tab.fill("#admin-new-name", "carol smith")  # a space: refused
    choose(admin_tab, "admin-new-role", "dispatcher")
    admin_tab.fill("#admin-new-password", "a long test password")
    admin_tab.click("#admin-add")
    expect(admin_tab.locator("#admin-new-name-error")).to_contain_text("letters, digits")
    expect(admin_tab.locator("#admin-new-password-error")).to_have_text("")
    admin_tab.fill("#admin-new-name", "carol")
    admin_tab.fill("#admin-new-password", "a long test password")
    admin_tab.click("#admin-add")
    expect(admin_tab.locator("#admin-add-message")).to_have_text("carol (dispatcher) added")
    expect(admin_tab.locator("#admin-new-name-error")).to_have_text("")
    expect(admin_tab.locator(".admin-users")).to_contain_text("carol")

    choose(admin_tab, "admin-user", "carol (dispatcher)")
    admin_tab.click("#admin-disable")
    expect(admin_tab.locator("#admin-user-message")).to_have_text(
        "carol is disabled; its sessions ended"
    )
    expect(admin_tab.locator(".admin-users")).to_contain_text("disabled")

    admin_tab.fill("#admin-token-label", "command room left")
    admin_tab.click("#admin-token-create")
    url = admin_tab.locator("#admin-token-url").inner_text()
    assert url.startswith(f"{site}/wall?token=")
    expect(admin_tab.locator(".admin-tokens")).to_contain_text("command room left")
    admin_tab.screenshot(path=str(artifacts / "admin.png"), full_page=True)

    wall_context, wall_tab = fresh()
    wall_tab.goto(url)
    wall_tab.wait_for_url(f"{site}/wall")
    wall_tab.locator(".leaflet-roads-pane canvas").wait_for(timeout=15000)
    wall_tab.locator(".alarm-chip.calm").wait_for(timeout=15000)  # its live data is served
    wall_context.close()  # before the revocation, whose refusals would log errors

    admin_tab.get_by_role("button", name="Revoke").click()
    expect(admin_tab.locator("#admin-token-message")).to_contain_text("revoked")
    expect(admin_tab.locator(".admin-tokens")).to_contain_text("revoked")
    assert http_status(url) == 403
    screen_context, screen_tab = fresh()
    screen_context.add_cookies(wall_context_cookie(url, site))
    screen_tab.goto(f"{site}/wall")  # the token as the wall keeps it: a cookie
    screen_tab.wait_for_url(f"{site}/login?next=/wall")

    admin_tab.fill("#admin-audit-action", "add_user")
    admin_tab.press("#admin-audit-action", "Enter")
    expect(admin_tab.locator(".admin-audit tbody tr")).to_have_count(2)
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT actor, action, ok FROM audit_log WHERE action <> 'login' ORDER BY id"
        ).fetchall()
    assert rows == [
        ("boss", "add_user", False),
        ("boss", "add_user", True),
        ("boss", "disable_user", True),
        ("boss", "add_wall_token", True),
        ("boss", "revoke_wall_token", True),
    ]


def test_a_dispatcher_is_refused_the_admin_page(fresh, site, db_url):
    with psycopg.connect(db_url) as conn:
        access.add_user(conn, "dan", "dispatcher", "a long test password")
    context, tab = fresh()
    tab.goto(f"{site}/login?next=/desk")
    tab.fill("input[name=name]", "dan")
    tab.fill("input[name=password]", "a long test password")
    tab.click("button[type=submit]")
    tab.wait_for_url(f"{site}/desk")
    response = context.request.get(f"{site}/admin")
    assert response.status == 403


def test_a_wall_open_when_its_token_is_revoked_says_so_and_goes_to_sign_in(browser, site, db_url):
    """Not a frozen map that looks live, refused every second: the wall shows
    why it stopped and opens the sign-in page, and the refusals stop."""
    with psycopg.connect(db_url) as conn:
        token = access.add_wall_token(conn, "screen 2", "test")
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        tab.goto(f"{site}/wall?token={token}")
        tab.wait_for_url(f"{site}/wall")
        tab.locator(".alarm-chip.calm").wait_for(timeout=15000)
        with psycopg.connect(db_url) as conn:
            conn.execute("UPDATE wall_tokens SET revoked_at = now()")
        expect(tab.locator("#dm-connection")).to_contain_text("access was revoked", timeout=15000)
        tab.wait_for_url(f"{site}/login?next=/wall", timeout=15000)
        refused = "SELECT count(*) FROM audit_log WHERE NOT ok"
        with psycopg.connect(db_url) as conn:
            before = conn.execute(refused).fetchone()
        tab.wait_for_timeout(3000)  # the sign-in page asks nothing
        with psycopg.connect(db_url) as conn:
            after = conn.execute(refused).fetchone()
        assert before == after and before is not None and before[0] >= 1
    finally:
        context.close()
    # The refused callbacks (and Dash's note of each) are the only errors reported.
    refusals = ("status of 403", "the wall needs a sign-in or a token")
    assert errors and all(any(r in e for r in refusals) for e in errors), errors
