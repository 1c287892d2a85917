SELECT source, target, cost_s, reverse_cost_s, length_m FROM road_edges WHERE car ORDER BY id
