SELECT source, target, length_m FROM road_edges WHERE foot ORDER BY id
