COPY road_edges (osm_id, source, target, highway, name, oneway, car, foot,
                 length_m, speed_kmh, cost_s, reverse_cost_s, geom) FROM STDIN
