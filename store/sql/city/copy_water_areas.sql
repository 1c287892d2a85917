COPY water_areas (osm_id, kind, name, geom) FROM STDIN
