SELECT id, at, kind, actor, incident_id, unit_id, order_id,
       ST_X(geom) AS lon, ST_Y(geom) AS lat, data
FROM events WHERE at BETWEEN %(t1)s AND %(t2)s ORDER BY at, id
