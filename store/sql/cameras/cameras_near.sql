-- Cameras within limit_m of a point, with their distance in metres.
SELECT id, name, bearing_deg, fov_deg, range_m, stream_url, ST_X(geom) AS lon, ST_Y(geom) AS lat,
       ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography)
           AS distance_m
FROM cameras
WHERE ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography,
                 %(limit_m)s)
ORDER BY distance_m
