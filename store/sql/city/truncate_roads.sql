TRUNCATE road_edges, road_nodes RESTART IDENTITY
