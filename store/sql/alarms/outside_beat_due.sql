-- Available units that have been outside their home beat for longer than
-- %(outside_beat_s)s at %(now)s: the latest fix, the last fix at or before
-- now - grace, and every fix since are all outside the beat. Units working an
-- incident (dispatched .. on scene), busy, out of service or off duty may leave it.
-- Same columns as alarms_due.sql.
WITH outside AS MATERIALIZED (
    SELECT u.id, u.home_beat, b.geom AS beat
    FROM units u
    JOIN beats b ON b.id = u.home_beat
    JOIN unit_latest l ON l.unit_id = u.id
    WHERE u.status = 'available' AND NOT ST_Covers(b.geom, l.geom)
)
SELECT 'outside_beat' AS kind, 3 AS severity, NULL::bigint AS incident_id, o.id AS unit_id,
       NULL::text AS order_id, format('outside beat %%s', o.home_beat) AS detail
FROM outside o
CROSS JOIN LATERAL (
    -- Bounded to an hour before the grace so only a day partition or two is
    -- searched; a unit silent that long is offline, which has its own alarm.
    SELECT p.geom FROM positions p
    WHERE p.unit_id = o.id
      AND p.fix_at <= %(now)s - make_interval(secs => %(outside_beat_s)s)
      AND p.fix_at > %(now)s - make_interval(secs => %(outside_beat_s)s) - interval '1 hour'
    ORDER BY p.fix_at DESC
    LIMIT 1
) AS before_grace
WHERE NOT ST_Covers(o.beat, before_grace.geom)
  AND NOT EXISTS (
      SELECT 1 FROM positions p
      WHERE p.unit_id = o.id
        AND p.fix_at > %(now)s - make_interval(secs => %(outside_beat_s)s)
        AND ST_Covers(o.beat, p.geom)
  )
