INSERT INTO beats (id, name, geom)
VALUES (%s, %s, ST_Multi(ST_GeomFromText(%s, 4326)))
ON CONFLICT (id) DO UPDATE SET name = excluded.name, geom = excluded.geom
