-- The drawn basemap's areas, read from the same OSM extract as the roads by
-- `dispatchmap load-city` (geo.osm.read_basemap) and replaced whole on every
-- load. Only what the map draws is kept. The sea is not here: OSM has it only
-- as coastline lines, and a city extract holds too few of them to close.
CREATE TABLE water_areas (
    id      bigserial PRIMARY KEY,
    osm_id  bigint NOT NULL,            -- a way or a relation id (the two may collide)
    kind    text NOT NULL,              -- water | riverbank | reservoir | basin
    name    text,
    geom    geometry(MultiPolygon, 4326) NOT NULL
);
CREATE INDEX water_areas_geom_idx ON water_areas USING gist (geom);

CREATE TABLE buildings (
    id      bigserial PRIMARY KEY,
    osm_id  bigint NOT NULL,
    name    text,
    geom    geometry(MultiPolygon, 4326) NOT NULL
);
CREATE INDEX buildings_geom_idx ON buildings USING gist (geom);
