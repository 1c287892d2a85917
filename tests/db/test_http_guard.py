"""The HTTP edge of the served dashboard on a real database: where a sign-in
may lead (``next=``), the Host check against DNS rebinding, the security
headers on every kind of answer, and malformed callback bodies."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import urllib.parse

import psycopg
import pytest

from dashboard import auth
from dispatchmap.settings import DashboardSettings
from tests.helpers import http_exchange, served_dashboard
from usecases import access

PASSWORD = "a long test password"
# Each must land on an own page: tabs and newlines are dropped by browsers,
# a backslash is read as a slash, and schemes, hosts and encodings vary.
HOSTILE_NEXT = [
    "/\t/evil.example/x",
    "/%09/evil.example/x",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "https://evil.example",
    "http:evil.example",
    "https:/evil.example",
    "javascript:alert(1)",
    "//evil.example/desk",
    "/%2F%2Fevil.example",
    "/%5Cevil.example",
    "%2F%2Fevil.example",
    "/\n/evil.example",
    "/\r\n//evil.example",
    " //evil.example",
    "/ /evil.example",
    "/desk/../..//evil.example",
    "//127.0.0.1@evil.example",
    "/wall@evil.example",
    "/．/evil.example",
    "\u3002evil.example",
    "/desk\t",
    "evil.example",
    "",
]


@pytest.fixture
def served(db_url):
    with psycopg.connect(db_url) as conn:
        access.add_user(conn, "dana", "commander", PASSWORD)
    with served_dashboard(db_url, DashboardSettings(demo=True)) as base:
        yield base


def sign_in(base: str, next_path: str):
    return http_exchange(f"{base}/login", {"name": "dana", "password": PASSWORD, "next": next_path})


def lands_on_own_page(base: str, location: str) -> bool:
    """Where a browser goes for ``Location: location`` answered at ``base``."""
    target = urllib.parse.urlsplit(urllib.parse.urljoin(f"{base}/login", location))
    return target.netloc == urllib.parse.urlsplit(base).netloc and target.path in auth.OWN_PAGES


def test_a_sign_in_leads_only_to_own_pages(served):
    for hostile in HOSTILE_NEXT:
        status, headers, _ = sign_in(served, hostile)
        assert status == 303 and headers["Location"] == "/desk", hostile
        form = http_exchange(f"{served}/login?next={urllib.parse.quote(hostile)}")[2]
        assert 'name="next" value="/desk"' in form, hostile
    for own in ["/wall", "/", "/replay", "/admin?x=1", "/quality#top"]:
        status, headers, _ = sign_in(served, own)
        assert status == 303 and lands_on_own_page(served, headers["Location"]), own
    assert sign_in(served, "/quality#top")[1]["Location"] == "/quality"


@pytest.mark.parametrize("hostile", HOSTILE_NEXT)
def test_safe_next_refuses_every_variant(hostile):
    assert auth._safe_next(hostile) == "/desk"


def test_a_rebinding_host_is_refused_and_audited(served, db_url):
    port = urllib.parse.urlsplit(served).port
    for host in [f"127.0.0.1:{port}", f"localhost:{port}", "localhost"]:
        assert http_exchange(f"{served}/wall", headers={"Host": host})[0] == 200, host
    for host in ["evil.example", f"evil.example:{port}", "127.0.0.1", f"127.0.0.1:{port + 1}"]:
        status, headers, _ = http_exchange(f"{served}/wall", headers={"Host": host})
        assert status == 400 and "Content-Security-Policy" in headers, host
    body = json.dumps(route_call("/wall")).encode()
    headers = {"Host": "evil.example", "Content-Type": "application/json"}
    assert http_exchange(f"{served}/_dash-update-component", body, headers)[0] == 400
    assert http_exchange(f"{served}/healthz", headers={"Host": "10.0.0.5:80"})[0] == 200
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT actor, ok, detail->>'host' FROM audit_log WHERE action = 'bad_host' ORDER BY id"
        ).fetchall()
    assert [host for _, _, host in rows] == [
        "evil.example",
        f"evil.example:{port}",
        "127.0.0.1",
        f"127.0.0.1:{port + 1}",
        "evil.example",
    ]
    assert all(actor == "anonymous" and not ok for actor, ok, _ in rows)


def route_call(path: str) -> dict:
    return {
        "output": "page.children",
        "outputs": {"id": "page", "property": "children"},
        "inputs": [{"id": "url", "property": "pathname", "value": path}],
        "changedPropIds": ["url.pathname"],
    }


def test_security_headers_on_pages_assets_callbacks_and_errors(served):
    index = http_exchange(f"{served}/wall")
    login = http_exchange(f"{served}/login")
    asset = http_exchange(f"{served}/assets/login.css")
    suite = re.search(r'src="(/_dash-component-suites/[^"]+)"', index[2])
    assert suite is not None
    script = http_exchange(served + suite.group(1))
    call = http_exchange(
        f"{served}/_dash-update-component",
        json.dumps(route_call("/wall")).encode(),
        {"Content-Type": "application/json"},
    )
    missing = http_exchange(f"{served}/assets/no-such-file.js")
    answers = [index, login, asset, script, call, missing]
    assert [a[0] for a in answers] == [200, 200, 200, 200, 200, 404]
    for _, headers, _ in answers:
        policy = headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert "frame-ancestors 'none'" in policy
        assert "default-src 'self'" in policy and "object-src 'none'" in policy
        assert not re.search(r"https?:|\*|'unsafe-eval'", policy)  # no third-party origin
        script_src = next(d for d in policy.split("; ") if d.startswith("script-src"))
        assert "'unsafe-inline'" not in script_src
    # Every inline script of Dash's index page is allowed by its hash, and only those.
    hashes = {f"'sha256-{h}'" for h in inline_script_hashes(index[2])}
    assert len(hashes) >= 2  # the renderer's start and the live map's clientside callbacks
    script_src = next(d for d in index[1]["Content-Security-Policy"].split("; ") if "script" in d)
    assert set(script_src.split()[2:]) == hashes


def inline_script_hashes(page: str) -> list[str]:
    """SHA-256 (base64) of each inline script a browser would run (JSON data blocks aside)."""
    page = re.sub(r"<!--.*?-->", "", page, flags=re.DOTALL)  # Dash's [if IE] comment
    found = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>(.*?)</script>", page, re.DOTALL)
    scripts = [body for attrs, body in found if "application/json" not in attrs]
    return [base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() for s in scripts]


def test_a_configured_tile_server_is_the_only_other_origin(db_url):
    tiles = "https://{s}.tiles.example.org/{z}/{x}/{y}.png"
    with served_dashboard(db_url, DashboardSettings(demo=True, tile_url=tiles)) as base:
        policy = http_exchange(f"{base}/wall")[1]["Content-Security-Policy"]
    assert "img-src 'self' data: https://*.tiles.example.org;" in policy
    assert policy.count("https:") == 1


MALFORMED = [
    b"not json",
    b"\xff\xfe\x00",
    b"[1, 2]",
    b"null",
    b'"page.children"',
    b"1e999999",
    b'{"output": 1}',
    b'{"output": "page.children", "inputs": "url"}',
    b'{"output": "page.children", "inputs": [1]}',
    b'{"output": "page.children", "inputs": [{"id": 1, "property": "pathname"}]}',
    b'{"output": "page.children", "inputs": [{"id": "url"}]}',
    b'{"output": "page.children", "inputs": [[{"id": "url", "property": 5}]]}',
    b'{"output": "page.children", "inputs": [], "state": {"a": 1}}',
    b'{"output": "page.children", "inputs": [], "outputs": 5}',
    b'{"output": "page.children", "inputs": [], "outputs": [null]}',
    b'{"output": "page.children", "inputs": [], "changedPropIds": "url.pathname"}',
    b'{"output": "page.children", "inputs": [], "changedPropIds": [1]}',
    b'{"output": "page.children", "inputs": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}",
]


def test_malformed_callback_bodies_are_400_and_audited(served, db_url):
    headers = {"Content-Type": "application/json"}
    for body in MALFORMED:
        status, _, text = http_exchange(f"{served}/_dash-update-component", body, headers)
        assert status == 400, (body[:60], text[:200])
    # Well formed but not the callback's outputs: refused (403) before Dash fails on them.
    wrong_outputs = {**route_call("/wall"), "outputs": [{"id": "page", "property": "children"}] * 3}
    body = json.dumps(wrong_outputs).encode()
    assert http_exchange(f"{served}/_dash-update-component", body, headers)[0] == 403
    # A well-formed body with a value no page sends: the value check's 400.
    forged_value = json.dumps(route_call(["/wall"])).encode()
    assert http_exchange(f"{served}/_dash-update-component", forged_value, headers)[0] == 400
    with psycopg.connect(db_url) as conn:
        refused = conn.execute(
            "SELECT count(*) FROM audit_log WHERE action = 'dash_callback' AND NOT ok"
        ).fetchone()[0]
        bad_value = conn.execute(
            "SELECT count(*) FROM audit_log WHERE action = 'bad_input' AND NOT ok"
        ).fetchone()[0]
    assert (refused, bad_value) == (len(MALFORMED) + 1, 1)
