-- Incidents that existed at any time in [t1, t2], with when they were created
-- and closed (closed_at NULL: still open); with a box (min_lon not NULL) only
-- those inside it.
SELECT i.id, i.priority, i.status, t.name_en, ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat,
       c.created_at, c.closed_at
FROM incident_clock c JOIN incidents i ON i.id = c.incident_id
JOIN incident_types t ON t.id = i.type
WHERE c.created_at <= %(t2)s AND (c.closed_at IS NULL OR c.closed_at >= %(t1)s)
  AND (%(min_lon)s::float8 IS NULL
       OR i.geom && ST_MakeEnvelope(%(min_lon)s, %(min_lat)s, %(max_lon)s, %(max_lat)s, 4326))
