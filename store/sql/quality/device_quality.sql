-- Every device (roster or not) with its last window: messages the ingest
-- accounted for (stored fixes + events + quarantined), rejects by reason, the
-- median reported accuracy of its stored fixes, its newest valid fix with age
-- and presence, and the time of its last message of any kind.
-- fix_since bounds positions by fix_at so old day partitions are pruned: the
-- ingest never stores a fix older than its max age at receipt.
WITH pos AS (
    SELECT device_id, count(*) AS n, max(received_at) AS last_at,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY acc_m) AS acc_median_m
    FROM positions
    WHERE received_at > %(since)s AND received_at <= %(now)s AND fix_at > %(fix_since)s
    GROUP BY device_id
), ev AS (
    SELECT device_id, count(*) AS n
    FROM device_events
    WHERE received_at > %(since)s AND received_at <= %(now)s
    GROUP BY device_id
), rej AS (
    SELECT device_id, reason, count(*) AS n
    FROM quarantine
    WHERE device_id IS NOT NULL AND received_at > %(since)s AND received_at <= %(now)s
    GROUP BY device_id, reason
), rej_by_device AS (
    SELECT device_id, sum(n)::bigint AS n, jsonb_object_agg(reason, n) AS reasons
    FROM rej GROUP BY device_id
)
SELECT d.id AS device_id, d.unit_id, u.call_sign, d.kind, d.format,
       l.fix_at AS last_fix_at,
       extract(epoch FROM %(now)s::timestamptz - l.fix_at)::float8 AS fix_age_s,
       CASE WHEN l.fix_at IS NULL THEN 'no_fix'
            WHEN %(now)s::timestamptz - l.fix_at <= make_interval(secs => %(stale_s)s) THEN 'online'
            WHEN %(now)s::timestamptz - l.fix_at <= make_interval(secs => %(offline_s)s) THEN 'stale'
            ELSE 'offline' END AS presence,
       ST_X(l.geom) AS lon, ST_Y(l.geom) AS lat,
       greatest(
           CASE WHEN l.received_at <= %(now)s THEN l.received_at END,
           pos.last_at,
           (SELECT max(e.received_at) FROM device_events e
            WHERE e.device_id = d.id AND e.received_at <= %(now)s),
           (SELECT max(q.received_at) FROM quarantine q
            WHERE q.device_id = d.id AND q.received_at <= %(now)s)
       ) AS last_message_at,
       coalesce(pos.n, 0)::bigint AS fixes_n,
       coalesce(ev.n, 0)::bigint AS events_n,
       coalesce(r.n, 0)::bigint AS rejected_n,
       (coalesce(pos.n, 0) + coalesce(ev.n, 0) + coalesce(r.n, 0))::bigint AS messages_n,
       coalesce(r.reasons, '{}'::jsonb) AS rejected_by_reason,
       pos.acc_median_m
FROM devices d
LEFT JOIN units u ON u.id = d.unit_id
LEFT JOIN device_latest l ON l.device_id = d.id
LEFT JOIN pos ON pos.device_id = d.id
LEFT JOIN ev ON ev.device_id = d.id
LEFT JOIN rej_by_device r ON r.device_id = d.id
ORDER BY d.id
