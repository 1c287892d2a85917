-- The units whose marker a live map must redraw since its last read, with the
-- columns of unit_positions. "Since" is what the map got back last time:
--  * since_xmin: the oldest transaction still running when that read was
--    taken (32 bits of its xid). Any row version written by a transaction
--    from there on may be new to the map: a fix (unit_latest), a status or
--    roster edit (units), a live order (the tooltip's incident). Cut by xid,
--    not by a timestamp: received_at is stamped before its batch commits, so
--    a time cut would miss a fix that committed late. A subtransaction's xid
--    (the dispatcher's savepoints) is never older than its parent's, so it
--    is caught too. Conservative: a transaction that committed just before
--    that read is sent again, which only costs bytes.
--  * since_at: the server time of that read. A unit whose fix age crossed the
--    stale or offline threshold in (since_at, now] changed colour with no row
--    written; the edges match dashboard.views.presence (age <= stale_s is online).
-- With since_at NULL every unit with a fix is returned (the first load).
-- The first row always exists: it carries this read's snapshot_xmin and the
-- number of units with a fix, seen in the same snapshot as the rows; a read
-- with nothing changed is that one row with id NULL.
WITH version AS (
    SELECT mod(pg_snapshot_xmin(pg_current_snapshot())::text::bigint, 4294967296) AS snapshot_xmin,
           (SELECT count(*) FROM unit_latest) AS units_with_fix
), changed AS (
    SELECT u.id, u.call_sign, u.kind, u.status, u.home_beat, u.talkgroup, u.phone,
           l.device_id, l.fix_at, l.speed_kmh, l.heading_deg,
           ST_X(l.geom) AS lon, ST_Y(l.geom) AS lat,
           extract(epoch FROM %(now)s::timestamptz - l.fix_at)::float8 AS fix_age_s,
           o.incident_id
    FROM units u
    JOIN unit_latest l ON l.unit_id = u.id
    LEFT JOIN orders o ON o.unit_id = u.id
         AND o.state IN ('sent', 'acknowledged', 'enroute', 'onscene')
    WHERE %(since_at)s::timestamptz IS NULL
       -- xids 0-2 are special (invalid, bootstrap, frozen); the rest compare
       -- modulo 2^32 as PostgreSQL itself does, so wraparound is harmless.
       OR EXISTS (
           SELECT 1 FROM (VALUES (u.xmin), (l.xmin), (o.xmin)) AS w (xid)
           WHERE w.xid::text::bigint > 2
             AND mod(w.xid::text::bigint - %(since_xmin)s::bigint + 4294967296, 4294967296)
                 < 2147483648)
       OR l.fix_at + make_interval(secs => %(stale_s)s) >= %(since_at)s::timestamptz
          AND l.fix_at + make_interval(secs => %(stale_s)s) < %(now)s::timestamptz
       OR l.fix_at + make_interval(secs => %(offline_s)s) >= %(since_at)s::timestamptz
          AND l.fix_at + make_interval(secs => %(offline_s)s) < %(now)s::timestamptz
)
SELECT v.snapshot_xmin, v.units_with_fix, c.*
FROM version v
LEFT JOIN changed c ON true
ORDER BY c.id
