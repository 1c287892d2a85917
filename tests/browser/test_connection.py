"""When the server goes away the page says so plainly, and the banner clears
by itself when the server is back."""

from __future__ import annotations

import threading

from werkzeug.serving import make_server

from dashboard.app import create_app
from dispatchmap.services import free_port
from dispatchmap.settings import DashboardSettings, PresenceSettings
from store.db import open_pool


def serve(app, port: int):
    server = make_server("127.0.0.1", port, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


def test_lost_server_is_announced_and_recovery_clears_it(browser, db_url, artifacts):
    pool = open_pool(db_url, max_size=4)
    port = free_port()
    cfg = DashboardSettings(demo=True, refresh_ms=1000, host="127.0.0.1", port=port)
    app = create_app(cfg, PresenceSettings(), pool)
    server, thread = serve(app, port)
    # Its own context: while the server is down the page's requests fail by design.
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        page.goto(f"http://127.0.0.1:{port}/wall")
        page.locator(".leaflet-roads-pane canvas").wait_for(timeout=20000)
        assert page.locator("#dm-connection").count() == 0
        server.shutdown()
        server.server_close()
        thread.join(10)
        banner = page.locator("#dm-connection")
        banner.wait_for(timeout=15000)
        assert "Connection to the dispatchmap server lost" in banner.inner_text()
        page.screenshot(path=str(artifacts / "wall-connection-lost.png"))
        server, thread = serve(app, port)
        banner.wait_for(state="detached", timeout=15000)
    finally:
        context.close()
        server.shutdown()
        server.server_close()
        thread.join(10)
        pool.close()
