"""Build the JSON body the Dash renderer posts to ``/_dash-update-component``
for a registered callback, so tests can send true and forged calls."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dash import Dash

from dashboard.callback_requests import id_key, parse_id


def callback_key(app: Dash, *input_keys: str, output: str | None = None) -> str:
    """The ``callback_map`` key of the callback whose inputs are ``input_keys``
    (ids or pattern types), and whose key holds ``output`` if given."""
    found = [
        key
        for key, spec in app.callback_map.items()
        if [id_key(parse_id(d["id"])) for d in spec["inputs"]] == list(input_keys)
        and (output is None or output in key)
    ]
    assert len(found) == 1, found
    return found[0]


def call_body(
    app: Dash,
    key: str,
    values: Mapping[str, Any] | None = None,
    changed: list[str] | None = None,
) -> dict[str, Any]:
    """The renderer's body for callback ``key``: every declared input and state
    with its value from ``values`` (by id; None otherwise; an ALL pattern
    sends no component), firing ``changed`` (prop ids; none: an initial call)."""
    spec = app.callback_map[key]
    values = values or {}

    def dep(d: Mapping[str, Any]) -> Any:
        component = parse_id(d["id"])
        if isinstance(component, dict):
            return []
        return {"id": component, "property": d["property"], "value": values.get(component)}

    output = spec["output"]
    outputs = output if isinstance(output, list) else [output]
    sent = [{"id": o.component_id, "property": o.component_property} for o in outputs]
    return {
        "output": key,
        "outputs": sent if isinstance(output, list) else sent[0],
        "inputs": [dep(d) for d in spec["inputs"]],
        "state": [dep(d) for d in spec["state"]],
        "changedPropIds": changed or [],
    }
