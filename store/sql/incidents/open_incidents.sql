-- The incident queue: everything not closed, with how long it has waited
-- for its first unit and the units sent.
SELECT i.id, i.external_id, i.type, t.name_en, t.name_zh, i.priority, i.status, i.created_at,
       i.notes, ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat,
       extract(epoch FROM %(now)s::timestamptz - i.created_at)::float8 AS age_s,
       (SELECT string_agg(u.call_sign || ':' || o.state, ', ' ORDER BY o.sent_at)
        FROM orders o JOIN units u ON u.id = o.unit_id WHERE o.incident_id = i.id) AS units
FROM incidents i JOIN incident_types t ON t.id = i.type
WHERE i.status <> 'closed'
ORDER BY i.priority, i.created_at
