INSERT INTO stations (id, name, phone, geom)
VALUES (%s, %s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326))
