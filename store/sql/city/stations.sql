SELECT id, name, phone, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM stations ORDER BY id
