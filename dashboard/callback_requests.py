"""What a ``POST /_dash-update-component`` asks to run, checked against the
callback Dash will actually run.

Dash picks the function by ``body["output"]`` alone and passes it the values
in ``body["inputs"]`` and ``body["state"]`` by position, never checking that
their ids are that callback's (``_prepare_callback`` in dash/dash.py,
``serve_callback`` in dash/backends/_flask.py). So a request may claim a
harmless input (the wall's tick) and run any callback. :func:`resolve` refuses
a request whose inputs, state or ``changedPropIds`` are not exactly those of
the callback it names; :func:`fired_ids` says which inputs fired it, for the
rights check in :mod:`dashboard.auth`. Pure: no Flask, no database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

ComponentId = str | dict[str, Any]
# How a stringified pattern id spells the wildcards that match a list of components.
MANY = (["ALL"], ["ALLSMALLER"])


class CallMismatch(ValueError):
    """A request that does not match the server callback it names."""


def parse_id(text: str) -> ComponentId:
    """A component id as Dash writes it in a callback's spec or a prop id: a
    plain id, or a JSON object for a pattern-matching one (wildcards as
    ``["ALL"]``, ``["MATCH"]``, ``["ALLSMALLER"]``)."""
    if not text.startswith("{"):
        return text
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise CallMismatch(f"unreadable component id {text[:80]!r}")
    return parsed


def id_key(component_id: Any) -> str:
    """The name pages and rights are keyed on: the id itself, or a
    pattern-matching id's ``type``."""
    if isinstance(component_id, dict):
        return str(component_id.get("type", ""))
    return str(component_id)


def declared_ids(spec: Mapping[str, Any]) -> list[ComponentId]:
    """Every component id a registered callback declares: outputs, inputs, state."""
    output = spec["output"]
    outputs = output if isinstance(output, list | tuple) else [output]
    declared = [*spec["inputs"], *spec["state"]]
    return [o.component_id for o in outputs] + [parse_id(d["id"]) for d in declared]


def shape_error(body: Any) -> str | None:
    """What makes ``body`` no Dash callback request at all (answered 400,
    where :func:`resolve`'s refusal of a well-formed but wrong call is a 403),
    or None. The shapes Dash's dispatch reads without checking: ``output`` a
    string; ``outputs`` one dependency or a list; ``inputs`` and ``state``
    lists; each dependency (or each of a pattern's list) an object with an
    ``id`` (a string or an object) and a string ``property``; and
    ``changedPropIds`` a list of strings."""
    if not isinstance(body, dict) or not isinstance(body.get("output"), str):
        return "no callback named"
    outputs = body.get("outputs", [])
    for part, entries in (
        ("outputs", outputs if isinstance(outputs, list) else [outputs]),
        ("inputs", body.get("inputs")),
        ("state", body.get("state", [])),
    ):
        if not isinstance(entries, list):
            return f"{part}: a list expected"
        if not all(_dependency(item) for entry in entries for item in _items(entry)):
            return f"{part}: each an object with an id and a property"
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(p, str) for p in changed):
        return "changedPropIds: a list of strings expected"
    return None


def _dependency(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and isinstance(item.get("id"), str | dict)
        and isinstance(item.get("property"), str)
    )


def resolve(body: Any, callbacks: Mapping[str, Any]) -> Mapping[str, Any]:
    """The spec of the server callback ``body`` names (a ``callback_map``
    entry), if the request's inputs, state and ``changedPropIds`` are exactly
    that callback's; raises :class:`CallMismatch` otherwise, also for an
    unknown output and for clientside callbacks (which never run here)."""
    if not isinstance(body, dict) or not isinstance(body.get("output"), str):
        raise CallMismatch("the request names no callback")
    spec = callbacks.get(body["output"])
    if spec is None or "callback" not in spec:
        raise CallMismatch("no such server callback")
    _match_outputs(body.get("outputs"), spec["output"])
    _match(body.get("inputs"), spec["inputs"], "inputs")
    _match(body.get("state", []), spec["state"], "state")
    sent = [item for entry in body["inputs"] for item in _items(entry)]
    for prop_id in _changed(body):
        component, _, prop = prop_id.rpartition(".")
        if not any(s["id"] == parse_id(component) and s["property"] == prop for s in sent):
            raise CallMismatch(f"changedPropIds names {prop_id[:80]!r}, not an input sent")
    return spec


def fired_ids(body: Mapping[str, Any], spec: Mapping[str, Any]) -> list[ComponentId]:
    """The inputs that fired a call :func:`resolve` accepted: those named in
    ``changedPropIds``, or every declared input when it is empty (the initial
    call, or the renderer's call after components of an ALL input went away)."""
    changed = _changed(body)
    if changed:
        fired = [(parse_id(p.rpartition(".")[0]), p.rpartition(".")[2]) for p in changed]
    else:
        fired = [(parse_id(d["id"]), d["property"]) for d in spec["inputs"]]
    # Buttons drawn afresh (a suggestion's dispatch buttons) fire their
    # pattern's callback with no click sent at all: that is not the action, so
    # a user who may see the page but not act (an admin on the desk) is not
    # refused. One click anywhere in the call and every fired input counts.
    if not any(_click_counts(body)):
        return [i for i, prop in fired if prop != "n_clicks"]
    return [i for i, _ in fired]


def _click_counts(body: Mapping[str, Any]) -> list[Any]:
    """Every ``n_clicks`` value the call sends."""
    return [
        item.get("value")
        for entry in body.get("inputs") or []
        for item in _items(entry)
        if isinstance(item, dict) and item.get("property") == "n_clicks"
    ]


def _changed(body: Mapping[str, Any]) -> list[str]:
    changed = body.get("changedPropIds") or []
    if not isinstance(changed, list) or not all(isinstance(p, str) for p in changed):
        raise CallMismatch("changedPropIds must be a list of prop ids")
    return changed


def _items(entry: Any) -> list[Any]:
    return entry if isinstance(entry, list) else [entry]


def _match_outputs(sent: Any, output: Any) -> None:
    """Raise unless ``sent`` (the request's ``outputs``) names the callback's
    outputs: one object for a single output, a list for several. Dash fails
    (a 500) on outputs that are not the callback's. The ``@hash`` an
    ``allow_duplicate`` output may carry is not part of the match."""
    many = isinstance(output, list | tuple)
    outputs = list(output) if many else [output]
    declared = [{"id": o.component_id_str(), "property": o.component_property} for o in outputs]
    entries = sent if many else [sent]
    if not isinstance(entries, list):
        raise CallMismatch(f"outputs: {len(declared)} expected")
    plain = [[_unhashed(i) for i in e] if isinstance(e, list) else _unhashed(e) for e in entries]
    _match(plain, declared, "outputs")


def _unhashed(item: Any) -> Any:
    if isinstance(item, dict) and isinstance(item.get("property"), str):
        return {**item, "property": item["property"].partition("@")[0]}
    return item


def _match(sent: Any, declared: list[dict[str, Any]], part: str) -> None:
    """Raise unless ``sent`` (the request's inputs or state) names the
    declared dependencies, one entry each, in order."""
    if not isinstance(sent, list) or len(sent) != len(declared):
        raise CallMismatch(f"{part}: {len(declared)} expected")
    for entry, dep in zip(sent, declared, strict=True):
        want, prop = parse_id(dep["id"]), dep["property"]
        many = isinstance(want, dict) and any(v in MANY for v in want.values())
        if many and not isinstance(entry, list):
            raise CallMismatch(f"{part}: a list expected for {dep['id'][:80]}")
        if not all(_same(item, want, prop) for item in (entry if many else [entry])):
            raise CallMismatch(f"{part}: not {dep['id'][:80]}.{prop}")


def _same(item: Any, want: ComponentId, prop: str) -> bool:
    """Whether one sent ``{"id", "property"}`` is the declared dependency: the
    same id, or for a pattern the same keys and every non-wildcard value
    (so the same ``type``)."""
    if not isinstance(item, dict) or item.get("property") != prop:
        return False
    got = item.get("id")
    if not isinstance(want, dict):
        return got == want
    if not isinstance(got, dict) or got.keys() != want.keys():
        return False
    return all(isinstance(v, list) or got[k] == v for k, v in want.items())
