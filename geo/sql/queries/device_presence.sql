-- Every known device (roster or not) with the age of its last fix and its
-- presence: online up to stale_s, stale up to offline_s, then offline.
SELECT d.id AS device_id, d.unit_id, d.kind, d.format, l.fix_at,
       extract(epoch FROM %(now)s::timestamptz - l.fix_at)::float8 AS fix_age_s,
       CASE WHEN l.fix_at IS NULL THEN 'no_fix'
            WHEN %(now)s::timestamptz - l.fix_at <= make_interval(secs => %(stale_s)s) THEN 'online'
            WHEN %(now)s::timestamptz - l.fix_at <= make_interval(secs => %(offline_s)s) THEN 'stale'
            ELSE 'offline' END AS presence
FROM devices d
LEFT JOIN device_latest l ON l.device_id = d.id
ORDER BY d.unit_id NULLS FIRST, d.id
