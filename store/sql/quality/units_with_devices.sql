-- Every roster unit with its newest valid fix from any of its devices, the
-- fix's age and presence, and the ids of its devices (empty: none at all).
SELECT u.id AS unit_id, u.call_sign, u.kind, l.device_id AS fix_device_id,
       l.fix_at AS last_fix_at,
       extract(epoch FROM %(now)s::timestamptz - l.fix_at)::float8 AS fix_age_s,
       CASE WHEN l.fix_at IS NULL THEN 'no_fix'
            WHEN %(now)s::timestamptz - l.fix_at <= make_interval(secs => %(stale_s)s) THEN 'online'
            WHEN %(now)s::timestamptz - l.fix_at <= make_interval(secs => %(offline_s)s) THEN 'stale'
            ELSE 'offline' END AS presence,
       coalesce((SELECT array_agg(d.id ORDER BY d.id) FROM devices d WHERE d.unit_id = u.id),
                '{}'::text[]) AS device_ids
FROM units u
LEFT JOIN unit_latest l ON l.unit_id = u.id
ORDER BY u.id
