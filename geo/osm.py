"""Road network, water areas and buildings from an OpenStreetMap ``.osm.pbf``
extract, via pyrosm.

pyrosm's ``get_network(nodes=True)`` splits ways into node-to-node segments and
splits them where the extract references nodes it does not contain, so no fake
straight roads appear (a naive loader such as osm2pgrouting draws them on the
Helsinki extract). Edge ``length`` from pyrosm is in metres.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shapely import get_parts, make_valid
from shapely.geometry import MultiPolygon, Polygon

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


ONEWAY_FORWARD = ("yes", "true", "1")
ONEWAY_BACKWARD = ("-1", "reverse")
# OSM: a roundabout and a motorway are one-way in the drawing direction unless
# tagged otherwise (wiki "Key:oneway", "Tag:junction=roundabout").
IMPLIED_ONEWAY_JUNCTIONS = ("roundabout", "circular")
IMPLIED_ONEWAY_HIGHWAYS = ("motorway",)


def car_direction(oneway: str | None, junction: str | None, highway: str) -> int:
    """How cars may use a way as drawn: 1 only forward, -1 only backward
    (``oneway=-1``), 0 both ways. An explicit ``oneway=no`` wins over a
    roundabout's or motorway's implied one-way."""
    tag = (oneway or "").strip().lower()
    if tag in ONEWAY_FORWARD:
        return 1
    if tag in ONEWAY_BACKWARD:
        return -1
    if tag == "no":
        return 0
    implied = junction in IMPLIED_ONEWAY_JUNCTIONS or highway in IMPLIED_ONEWAY_HIGHWAYS
    return 1 if implied else 0


def _junction(tags: object) -> str | None:
    """``junction`` from pyrosm's JSON text of the way's other tags."""
    text = _text(tags)
    if not text:
        return None
    try:
        value = json.loads(text).get("junction")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


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
    out = [_edge(row, car, foot) for row in edges.itertuples(index=False)]
    return RoadNetwork(nodes=node_xy, edges=out)


def _edge(row: Any, car: set[tuple[int, int, int]], foot: set[tuple[int, int, int]]) -> RoadEdge:
    """One of pyrosm's edge rows as a RoadEdge. A way one-way against its
    drawing (``oneway=-1``) is turned round, so ``oneway`` always means
    source -> target only; walking is not bound by it."""
    key = (int(row.id), int(row.u), int(row.v))
    highway = str(row.highway)
    coords = tuple((float(x), float(y)) for x, y in row.geometry.coords)
    direction = car_direction(_text(row.oneway), _junction(getattr(row, "tags", None)), highway)
    source, target = key[1], key[2]
    if key in car and direction == -1:
        source, target, coords = target, source, coords[::-1]
    return RoadEdge(
        osm_id=key[0],
        source=source,
        target=target,
        highway=highway,
        name=_text(row.name),
        oneway=key in car and direction != 0,
        car=key in car,
        foot=key in foot,
        length_m=float(row.length),
        speed_kmh=_speed_kmh(_text(row.maxspeed), highway) if key in car else WALK_SPEED_KMH,
        coords=coords,
    )


# Water areas as OSM tags them (a tag key -> the values that mean water). The
# sea is not among them: OSM draws it only as ``natural=coastline`` lines, and
# an extract holds fragments of those (three short ones in the Helsinki sample),
# too few to close into sea polygons.
WATER_TAGS = {"natural": ["water"], "waterway": ["riverbank"], "landuse": ["reservoir", "basin"]}


@dataclass(frozen=True, slots=True)
class Area:
    """One polygon feature of the drawn basemap. ``kind`` is the OSM tag value
    that made it water (``water``, ``riverbank``, ``reservoir``, ``basin``) or
    ``building``; ``wkt`` is a valid MultiPolygon, WGS84 degrees."""

    osm_id: int
    kind: str
    name: str | None
    wkt: str


@dataclass(frozen=True, slots=True)
class BasemapAreas:
    water: list[Area]
    buildings: list[Area]


def _multipolygon(geom) -> MultiPolygon | None:
    """``geom`` made valid, its polygons only, as one MultiPolygon; None for a
    way left open by the extract (a LineString) or one with no area."""
    if geom is None or geom.is_empty:
        return None
    fixed = geom if geom.is_valid else make_valid(geom)
    # make_valid may give a collection holding a MultiPolygon: flatten twice.
    parts = get_parts(get_parts(fixed))
    polygons = [p for p in parts if isinstance(p, Polygon) and p.area > 0]
    return MultiPolygon(polygons) if polygons else None


def _areas(frame, kind_of) -> list[Area]:
    """Rows of a pyrosm frame (None: the extract has none) as areas."""
    if frame is None:
        return []
    out = []
    for row in frame.itertuples(index=False):
        shape = _multipolygon(row.geometry)
        if shape is not None:
            out.append(
                Area(int(row.id), kind_of(row), _text(getattr(row, "name", None)), shape.wkt)
            )
    return out


def _water_kind(row) -> str:
    if _text(getattr(row, "natural", None)) == "water":
        return "water"
    return _text(getattr(row, "waterway", None)) or _text(getattr(row, "landuse", None)) or "water"


def read_basemap(pbf: Path) -> BasemapAreas:
    """Water areas and buildings of the extract for drawing the basemap; an
    extract without them gives empty lists."""
    import pyrosm  # heavy import: only when a city is loaded

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        osm = pyrosm.OSM(str(pbf))
        water = osm.get_data_by_custom_criteria(
            custom_filter=WATER_TAGS,
            filter_type="keep",
            keep_nodes=False,
            tags_as_columns=["name", *WATER_TAGS],
        )
        buildings = osm.get_buildings()
    return BasemapAreas(_areas(water, _water_kind), _areas(buildings, lambda _row: "building"))
