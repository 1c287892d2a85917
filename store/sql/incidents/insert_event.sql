INSERT INTO events (at, kind, actor, incident_id, unit_id, order_id, geom, data)
VALUES (%(at)s, %(kind)s, %(actor)s, %(incident_id)s, %(unit_id)s, %(order_id)s,
        CASE WHEN %(lon)s::float8 IS NULL THEN NULL
             ELSE ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) END,
        %(data)s::jsonb)
RETURNING id
