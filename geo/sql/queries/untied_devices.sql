-- Devices tied to no unit (not on the roster, kind 'unknown', or on the roster
-- without a unit) whose latest fix is at most max_age_s old at now, by
-- device id. The tie is read from devices, not device_latest.unit_id:
-- a device untied since its last fix counts as untied.
SELECT d.id AS device_id, d.kind, d.format, l.fix_at, l.speed_kmh, l.acc_m,
       ST_X(l.geom) AS lon, ST_Y(l.geom) AS lat,
       extract(epoch FROM %(now)s::timestamptz - l.fix_at)::float8 AS fix_age_s
FROM devices d
JOIN device_latest l ON l.device_id = d.id
WHERE d.unit_id IS NULL
  AND l.fix_at >= %(now)s::timestamptz - make_interval(secs => %(max_age_s)s)
ORDER BY d.id
