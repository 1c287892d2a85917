SELECT id, name, bearing_deg, fov_deg, range_m, stream_url, ST_X(geom) AS lon, ST_Y(geom) AS lat
FROM cameras ORDER BY id
