COPY buildings (osm_id, name, geom) FROM STDIN
