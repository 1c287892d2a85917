"""What every HTTP exchange gets, whatever its route: the ``Host`` header
checked against the configured names, and the security headers.

A DNS-rebinding page (evil.example resolved to 127.0.0.1 after it loaded)
talks to the server as its own origin, so the same-origin checks of
:mod:`dashboard.auth` pass; only its ``Host: evil.example`` gives it away. Any
Host not in ``DashboardSettings.allowed_host_names()`` is answered 400 and
audited; ``/healthz`` is exempt (a load balancer probes it by address and it
reveals nothing).

The Content-Security-Policy names no origin but the server's own (and the
tile server's when one is configured): scripts only from files it serves
plus Dash's own inline scripts (its renderer start and the app's clientside
callbacks) by their SHA-256, computed from the app once its callbacks are all
registered. Styles need ``'unsafe-inline'``: Dash components and Plotly write
``style`` attributes and the bundled Leaflet CSS arrives as ``<style>``
elements. Images may be ``data:`` (Leaflet's embedded marker icons).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

import flask
from psycopg_pool import ConnectionPool
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from usecases import access

UNCHECKED_PATHS = frozenset({"/healthz"})
FIXED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # Not no-referrer: under it Chromium posts forms with "Origin: null",
    # which the same-origin check of dashboard.auth must refuse.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers without CSP level 2
    "Cross-Origin-Opener-Policy": "same-origin",
}


def content_security_policy(script_hashes: Sequence[str], tile_url: str | None) -> str:
    """The policy for ``script_hashes`` (CSP source expressions such as
    ``'sha256-…'``) and, when set, the tile server of ``tile_url``."""
    tiles = ""
    if tile_url:
        parts = urlsplit(tile_url.replace("{s}", "a"))
        # A {s} subdomain template spans several hosts: allow the wildcard.
        host = parts.netloc.replace("a.", "*.", 1) if "{s}" in tile_url else parts.netloc
        tiles = f" {parts.scheme}://{host}"
    directives = [
        "default-src 'self'",
        "script-src 'self' " + " ".join(script_hashes),
        "style-src 'self' 'unsafe-inline'",
        f"img-src 'self' data:{tiles}",
        "font-src 'self' data:",
        "connect-src 'self'",
        # hls.js feeds the <video> through Media Source Extensions: a blob: URL.
        "media-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


def install(
    server: flask.Flask,
    pool: ConnectionPool,
    allowed_hosts: frozenset[str],
    script_hashes: Callable[[], Sequence[str]],
    tile_url: str | None,
) -> None:
    """Check Host before any other request handler of ``server`` (install this
    first) and add the security headers to every answer. ``script_hashes`` is
    called once, at the first answer, when every callback is registered."""
    policy: list[str] = []

    @server.before_request
    def check_host() -> None:
        request = flask.request
        if request.path in UNCHECKED_PATHS or request.host.lower() in allowed_hosts:
            return
        with pool.connection() as conn:
            detail = {"host": request.host[:200], "path": request.path[:200]}
            access.audit(
                conn, "anonymous", "bad_host", False, ip=request.remote_addr, detail=detail
            )
        raise BadRequest("unknown Host header")

    @server.after_request
    def add_headers(response: Response) -> Response:
        if not policy:
            policy.append(content_security_policy(script_hashes(), tile_url))
        response.headers["Content-Security-Policy"] = policy[0]
        for name, value in FIXED_HEADERS.items():
            response.headers.setdefault(name, value)
        return response
