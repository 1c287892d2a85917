"""The admin page (``/admin``): users, wall tokens, the running settings and
the audit log. Pure builders: rows in, components out."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from dash import dcc, html

from dashboard import ids
from dashboard.checks import MAX_PASSWORD_TEXT_CHARS, MAX_TEXT_CHARS
from dashboard.layout.desk import labelled_field, page_header
from dispatchmap.settings import DashboardSettings, DispatchSettings, PresenceSettings
from geo.access import MIN_PASSWORD_CHARS, ROLES

# The fields of each form whose refusal is shown next to them.
FORM_FIELDS = {
    "new": ("name", "role", "password"),
    "user": ("user", "role", "password"),
    "token": ("label", "token"),
}
ROLE_OPTIONS = [{"label": role, "value": role} for role in ROLES]


def field_error_id(form: str, field: str) -> str:
    """Where the refusal of ``form``'s ``field`` is shown (see FORM_FIELDS)."""
    return f"admin-{form}-{field}-error"


def when(at: datetime | None, tz: ZoneInfo) -> str:
    """A time in the station's zone to the minute; "–" for none."""
    return "–" if at is None else at.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def redact_url(url: str) -> str:
    """``url`` with any password and every query value replaced by ``***``
    (tile servers often carry an API key in the query)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
    query = urlencode([(k, "***") for k, _ in parse_qsl(parts.query, keep_blank_values=True)])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def running_settings(
    dash: DashboardSettings,
    presence: PresenceSettings,
    dispatch: DispatchSettings,
    database: str,
) -> list[tuple[str, str]]:
    """(label, value) of the settings that matter on the floor, as this
    process reads them. No secrets: ``database`` is user@host:port/name
    without a password, the tile URL is redacted."""
    return [
        ("Time zone", dash.timezone),
        ("Wall language", dash.language),
        ("Demo mode", "on" if dash.demo else "off"),
        ("Stale after (s)", f"{presence.stale_s:g}"),
        ("Offline after (s)", f"{presence.offline_s:g}"),
        ("Acknowledge within (s)", f"{dispatch.ack_s:g}"),
        ("En route within (s)", f"{dispatch.enroute_s:g}"),
        (
            "On scene within, P1-2 / P3-4 (s)",
            f"{dispatch.onscene_p12_s:g} / {dispatch.onscene_p34_s:g}",
        ),
        ("Queued at most, P1-2 / P3-4 (s)", f"{dispatch.queue_p12_s:g} / {dispatch.queue_p34_s:g}"),
        ("Feedback within (s)", f"{dispatch.feedback_s:g}"),
        ("Arrival radius (m)", f"{dispatch.arrival_radius_m:g}"),
        ("Suggest units with a fix younger than (s)", f"{dispatch.max_fix_age_s:g}"),
        ("Coverage target (s)", f"{dispatch.coverage_target_s:g}"),
        (
            "Tile URL",
            redact_url(dash.tile_url) if dash.tile_url else "none: roads of the loaded city",
        ),
        ("Session lifetime (h)", f"{dash.session_hours:g}"),
        ("Secure cookies", "on" if dash.secure_cookies else "off"),
        ("Database", database),
    ]


def _form_field(form: str, field: str, label: str, control: Any) -> html.Div:
    return labelled_field(label, control, field_error_id(form, field))


def _input(
    id_: str, kind: Literal["text", "password"] = "text", placeholder: str = ""
) -> dcc.Input:
    # The browser stops typing where the server's check (dashboard.checks) would refuse.
    most = MAX_PASSWORD_TEXT_CHARS if kind == "password" else MAX_TEXT_CHARS
    return dcc.Input(
        id=id_,
        type=kind,
        placeholder=placeholder,
        autoComplete="off",
        debounce=False,
        maxLength=most,
    )


def add_user_form() -> html.Div:
    return html.Div(
        className="panel admin-form",
        children=[
            html.H3("Add a user"),
            _form_field("new", "name", "Name", _input(ids.ADMIN_NEW_NAME)),
            _form_field(
                "new",
                "role",
                "Role",
                dcc.Dropdown(id=ids.ADMIN_NEW_ROLE, options=ROLE_OPTIONS, clearable=False),
            ),
            _form_field(
                "new",
                "password",
                f"Initial password (at least {MIN_PASSWORD_CHARS} characters)",
                _input(ids.ADMIN_NEW_PASSWORD, "password"),
            ),
            html.Button("Add user", id=ids.ADMIN_ADD, className="primary"),
            html.Div(id=ids.ADMIN_ADD_MESSAGE, className="admin-message", role="status"),
        ],
    )


def user_options(users: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [
        {
            "label": f"{u['name']} ({u['role']}{'' if u['active'] else ', disabled'})",
            "value": u["name"],
        }
        for u in users
    ]


def change_user_form(users: list[dict[str, Any]]) -> html.Div:
    return html.Div(
        className="panel admin-form",
        children=[
            html.H3("Change a user"),
            _form_field(
                "user", "user", "User", dcc.Dropdown(id=ids.ADMIN_USER, options=user_options(users))
            ),
            _form_field(
                "user",
                "role",
                "New role",
                dcc.Dropdown(id=ids.ADMIN_ROLE, options=ROLE_OPTIONS, clearable=False),
            ),
            html.Button("Set role", id=ids.ADMIN_SET_ROLE, className="primary"),
            _form_field("user", "password", "New password", _input(ids.ADMIN_PASSWORD, "password")),
            html.Div(
                className="admin-buttons",
                children=[
                    html.Button("Reset password", id=ids.ADMIN_RESET, className="primary"),
                    html.Button("Disable", id=ids.ADMIN_DISABLE, className="danger"),
                    html.Button("Enable", id=ids.ADMIN_ENABLE, className="primary"),
                ],
            ),
            html.Div(id=ids.ADMIN_USER_MESSAGE, className="admin-message", role="status"),
        ],
    )


def _table(headers: list[str], rows: list[list[Any]], class_name: str) -> html.Table:
    return html.Table(
        className=f"admin-table {class_name}",
        children=[
            html.Thead(html.Tr([html.Th(h) for h in headers])),
            html.Tbody([html.Tr([html.Td(c) for c in row]) for row in rows]),
        ],
    )


def users_table(users: list[dict[str, Any]], tz: ZoneInfo) -> html.Table:
    """One row per user: name, role, created, last login, active."""
    rows = [
        [
            u["name"],
            u["role"],
            when(u["created_at"], tz),
            when(u["last_login_at"], tz),
            html.Span("active" if u["active"] else "disabled", className=f"state-{u['active']}"),
        ]
        for u in users
    ]
    return _table(["Name", "Role", "Created", "Last login", "State"], rows, "admin-users")


def tokens_table(tokens: list[dict[str, Any]], tz: ZoneInfo) -> html.Table:
    """One row per wall token, with a Revoke button while it is live."""
    rows = [
        [
            t["label"],
            t["created_by"],
            when(t["created_at"], tz),
            when(t["last_used_at"], tz),
            f"revoked {when(t['revoked_at'], tz)}"
            if t["revoked_at"]
            else html.Button(
                "Revoke",
                id={"type": ids.ADMIN_TOKEN_REVOKE, "token": t["id"]},
                className="danger small",
            ),
        ]
        for t in tokens
    ]
    return _table(["Label", "By", "Created", "Last used", ""], rows, "admin-tokens")


def token_form() -> html.Div:
    return html.Div(
        className="admin-form",
        children=[
            _form_field(
                "token", "label", "Label of the new wall token", _input(ids.ADMIN_TOKEN_LABEL)
            ),
            html.Button("Create wall token", id=ids.ADMIN_TOKEN_CREATE, className="primary"),
            html.Div(id=field_error_id("token", "token"), className="field-error"),
            html.Div(id=ids.ADMIN_TOKEN_NEW),
        ],
    )


def new_token(label: str, url: str) -> html.Div:
    """The wall URL with a new token: shown this once, never stored."""
    return html.Div(
        className="admin-new-token",
        children=[
            html.Div(f"Wall token for {label!r}, shown once: open the wall screen at"),
            html.Div(
                className="admin-token-row",
                children=[
                    html.Code(url, id="admin-token-url"),
                    dcc.Clipboard(
                        target_id="admin-token-url",
                        children=html.Button("Copy", className="small"),
                        copied_children=html.Button("Copied", className="small"),
                        title="copy",
                    ),
                ],
            ),
        ],
    )


def settings_list(rows: list[tuple[str, str]]) -> html.Dl:
    children: list[Any] = []
    for label, value in rows:
        children += [html.Dt(label), html.Dd(value)]
    return html.Dl(className="admin-settings", children=children)


def audit_table(rows: list[dict[str, Any]], tz: ZoneInfo) -> html.Table:
    """The audit rows given, newest first; a refusal is marked."""
    body = [
        [
            when(r["at"], tz),
            r["actor"],
            r["action"],
            html.Span("ok" if r["ok"] else "refused", className=f"ok-{r['ok']}"),
            r["ip"] or "",
            json.dumps(r["detail"], ensure_ascii=False, sort_keys=True) if r["detail"] else "",
        ]
        for r in rows
    ]
    return _table(["At", "User", "Action", "", "IP", "Detail"], body, "admin-audit")


def audit_filters() -> html.Div:
    return html.Div(
        className="admin-filters",
        children=[
            dcc.Input(
                id=ids.ADMIN_AUDIT_ACTOR,
                placeholder="user (exact)",
                debounce=True,
                maxLength=MAX_TEXT_CHARS,
            ),
            dcc.Input(
                id=ids.ADMIN_AUDIT_ACTION,
                placeholder="action (exact)",
                debounce=True,
                maxLength=MAX_TEXT_CHARS,
            ),
        ],
    )


def _section(title: str, *children: Any, class_name: str = "") -> html.Div:
    return html.Div(className=f"panel {class_name}", children=[html.H3(title), *children])


def admin_page(
    *,
    user: str,
    role: str,
    users: list[dict[str, Any]],
    tokens: list[dict[str, Any]],
    audit: list[dict[str, Any]],
    settings: list[tuple[str, str]],
    tz: ZoneInfo,
) -> html.Div:
    """The whole page as of one read of the database."""
    return html.Div(
        className="admin",
        children=[
            page_header("admin", user, role),
            dcc.Store(id=ids.ADMIN_CHANGED),
            html.Div(
                className="admin-body",
                children=[
                    html.Div(
                        className="admin-column",
                        children=[
                            _section("Users", html.Div(users_table(users, tz), id=ids.ADMIN_USERS)),
                            _section(
                                "Wall tokens",
                                html.Div(tokens_table(tokens, tz), id=ids.ADMIN_TOKENS),
                                token_form(),
                                html.Div(id=ids.ADMIN_TOKEN_MESSAGE, className="admin-message"),
                            ),
                        ],
                    ),
                    html.Div(
                        className="admin-column",
                        children=[
                            add_user_form(),
                            change_user_form(users),
                            _section("Running settings (read-only)", settings_list(settings)),
                        ],
                    ),
                    _section(
                        "Audit log (newest 200)",
                        audit_filters(),
                        html.Div(audit_table(audit, tz), id=ids.ADMIN_AUDIT),
                        class_name="admin-audit-panel",
                    ),
                ],
            ),
        ],
    )
