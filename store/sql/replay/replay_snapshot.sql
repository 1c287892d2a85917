-- Seek: per unit, the newest fix at or before the moment (looked for back to
-- lookback_s seconds) and the first fix after it, if close enough to
-- interpolate towards. Each LATERAL is one index probe on (unit_id, fix_at): the partition
-- bounds prune the day partitions at plan time, and the ordered Append stops
-- at the first partition that answers.
SELECT u.id,
       p.fix_at, ST_X(p.geom), ST_Y(p.geom), p.speed_kmh, p.heading_deg,
       n.fix_at, ST_X(n.geom), ST_Y(n.geom), n.speed_kmh, n.heading_deg
FROM units u
CROSS JOIN LATERAL (
    SELECT fix_at, geom, speed_kmh, heading_deg
    FROM positions
    WHERE unit_id = u.id
      AND fix_at <= %(at)s
      AND fix_at > %(at)s - make_interval(secs => %(lookback_s)s)
    ORDER BY fix_at DESC
    LIMIT 1
) p
LEFT JOIN LATERAL (
    SELECT fix_at, geom, speed_kmh, heading_deg
    FROM positions
    WHERE unit_id = u.id
      AND fix_at > %(at)s
      AND fix_at <= %(at)s + make_interval(secs => %(stale_s)s)
      AND fix_at <= p.fix_at + make_interval(secs => %(stale_s)s)
    ORDER BY fix_at
    LIMIT 1
) n ON true
WHERE %(unit_ids)s::text[] IS NULL OR u.id = ANY(%(unit_ids)s::text[])
