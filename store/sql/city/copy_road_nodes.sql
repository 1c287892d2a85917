COPY road_nodes (id, geom) FROM STDIN
