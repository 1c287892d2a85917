SELECT i.id, i.priority, i.status, t.name_en, ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat
FROM incident_clock c JOIN incidents i ON i.id = c.incident_id
JOIN incident_types t ON t.id = i.type
WHERE c.created_at <= %(t2)s AND (c.closed_at IS NULL OR c.closed_at >= %(t1)s)
