SELECT u.id, u.call_sign, u.kind, u.status, ST_X(l.geom) AS lon, ST_Y(l.geom) AS lat,
       l.fix_at, u.home_beat
FROM units u LEFT JOIN unit_latest l ON l.unit_id = u.id
ORDER BY u.id
