-- Changes what is known of an incident that is not closed (a NULL value:
-- unchanged); returns its values before and after, WGS84 degrees. The
-- version trigger moves the version when type, priority or place change.
WITH old AS (
    SELECT id, type, priority, notes, ST_X(geom) AS lon, ST_Y(geom) AS lat
    FROM incidents WHERE id = %(id)s AND status <> 'closed'
    FOR UPDATE
)
UPDATE incidents i
SET type = coalesce(%(type)s, i.type),
    priority = coalesce(%(priority)s::integer, i.priority),
    notes = coalesce(%(notes)s, i.notes),
    geom = CASE WHEN %(lon)s::float8 IS NULL THEN i.geom
                ELSE ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) END
FROM old
WHERE i.id = old.id
RETURNING old.type, old.priority, old.notes, old.lon, old.lat,
          i.type AS new_type, i.priority AS new_priority, i.notes AS new_notes,
          ST_X(i.geom) AS new_lon, ST_Y(i.geom) AS new_lat, i.version
