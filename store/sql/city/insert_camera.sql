INSERT INTO cameras (id, name, bearing_deg, fov_deg, range_m, stream_url, geom)
VALUES (%s, %s, %s, %s, %s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326))
