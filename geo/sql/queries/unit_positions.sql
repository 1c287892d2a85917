SELECT u.id, u.call_sign, u.kind, u.status, u.home_beat, u.talkgroup, u.phone,
       l.device_id, l.fix_at, l.speed_kmh, l.heading_deg,
       ST_X(l.geom) AS lon, ST_Y(l.geom) AS lat,
       extract(epoch FROM %(now)s::timestamptz - l.fix_at)::float8 AS fix_age_s,
       o.incident_id
FROM units u
LEFT JOIN unit_latest l ON l.unit_id = u.id
LEFT JOIN orders o ON o.unit_id = u.id
     AND o.state IN ('sent', 'acknowledged', 'enroute', 'onscene')
ORDER BY u.id
