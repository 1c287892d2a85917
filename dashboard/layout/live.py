"""The live units layer of the wall and the desk: an empty Leaflet layer group
that ``assets/live.js`` fills and updates in place, and the two stores that
carry deltas in and versions back (see ``dashboard/live.py``). Pure."""

from __future__ import annotations

import dash_leaflet as dl
from dash import dcc


def units_layer(layer_id: str) -> dl.LayerGroup:
    """Empty: markers are added, moved and removed by ``dm.live.apply``.
    ``attach`` runs when Leaflet adds the group to the map and hands the
    group and the map to live.js under ``layer_id``."""
    return dl.LayerGroup(id=layer_id, eventHandlers={"add": {"variable": "dm.live.attach"}})


def units_stores(delta_id: str, version_id: str) -> list[dcc.Store]:
    """The delta the server sent last (in) and the version the browser
    applied last (back); memory only, so a reload starts with a full load."""
    return [dcc.Store(id=delta_id), dcc.Store(id=version_id)]
