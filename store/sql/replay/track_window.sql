-- Fixes of each chosen unit from t1 to t2, plus the one just before t1 (back
-- to lookback_s seconds) and the one just after t2 (up to lookahead_s), so
-- positions at both ends can be interpolated. A unit is chosen when it is in
-- unit_ids (NULL: all; an area's units come from area_unit_ids). Every
-- branch reads the (unit_id, fix_at) index of the day partitions the window
-- touches.
WITH chosen AS (
    SELECT u.id
    FROM units u
    WHERE %(unit_ids)s::text[] IS NULL OR u.id = ANY(%(unit_ids)s::text[])
)
SELECT c.id, f.fix_at, ST_X(f.geom), ST_Y(f.geom), f.speed_kmh, f.heading_deg
FROM chosen c
CROSS JOIN LATERAL (
    (SELECT fix_at, geom, speed_kmh, heading_deg FROM positions
     WHERE unit_id = c.id AND fix_at < %(t1)s
       AND fix_at >= %(t1)s - make_interval(secs => %(lookback_s)s)
     ORDER BY fix_at DESC LIMIT 1)
    UNION ALL
    (SELECT fix_at, geom, speed_kmh, heading_deg FROM positions
     WHERE unit_id = c.id AND fix_at BETWEEN %(t1)s AND %(t2)s)
    UNION ALL
    (SELECT fix_at, geom, speed_kmh, heading_deg FROM positions
     WHERE unit_id = c.id AND fix_at > %(t2)s
       AND fix_at <= %(t2)s + make_interval(secs => %(lookahead_s)s)
     ORDER BY fix_at LIMIT 1)
) f
ORDER BY c.id, f.fix_at
