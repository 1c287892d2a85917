"""The Content-Security-Policy in a real Chromium: the pages run under it with
no violation, and it is enforced (an injected inline script is refused, and
the refusal is the console error every page test fails on)."""

from __future__ import annotations

from playwright.sync_api import Browser, Page

# Collects the document's CSP violation events from its very start.
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
    (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI));
"""


def test_the_wall_and_the_sign_in_page_run_with_no_violation(page: Page, dashboard_url: str):
    page.add_init_script(RECORD_VIOLATIONS)
    response = page.goto(f"{dashboard_url}/wall")
    assert response is not None
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.locator(".leaflet-roads-pane canvas").wait_for()
    page.locator("#wall-clock").wait_for()
    assert page.evaluate("window.__csp") == []
    page.goto(f"{dashboard_url}/login")
    page.locator("form.login").wait_for()
    assert page.evaluate("window.__csp") == []


def test_an_injected_inline_script_is_refused(browser: Browser, dashboard_url: str):
    context = browser.new_context()
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.add_init_script(RECORD_VIOLATIONS)
    try:
        tab.goto(f"{dashboard_url}/login")
        tab.evaluate(
            """() => { const s = document.createElement("script");
            s.textContent = "window.__ran = true"; document.body.appendChild(s); }"""
        )
        assert tab.evaluate("window.__ran === undefined")
        assert tab.evaluate("window.__csp") == ["script-src-elem inline"]
    finally:
        context.close()
    assert len(errors) == 1 and "Content Security Policy" in errors[0]
