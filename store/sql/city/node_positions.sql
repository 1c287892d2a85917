SELECT id, ST_X(geom), ST_Y(geom) FROM road_nodes
