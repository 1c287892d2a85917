-- Devices tied to no unit (not on the roster, kind 'unknown', or on the roster
-- without a unit) whose latest fix is at most max_age_s old at now: the
-- newest `shown` of them (by fix time), by device id, each row with
-- untied_n, how many there are in all (the window count runs before LIMIT).
-- The tie is read from devices, not device_latest.unit_id: a device untied
-- since its last fix counts as untied.
SELECT * FROM (
  SELECT d.id AS device_id, d.kind, d.format, l.fix_at, l.speed_kmh, l.acc_m,
         ST_X(l.geom) AS lon, ST_Y(l.geom) AS lat,
         extract(epoch FROM %(now)s::timestamptz - l.fix_at)::float8 AS fix_age_s,
         count(*) OVER () AS untied_n
  FROM devices d
  JOIN device_latest l ON l.device_id = d.id
  WHERE d.unit_id IS NULL
    AND l.fix_at >= %(now)s::timestamptz - make_interval(secs => %(max_age_s)s)
  ORDER BY l.fix_at DESC, d.id
  LIMIT %(shown)s
) newest
ORDER BY device_id
