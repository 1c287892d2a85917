-- A device's newest stored fixes, newest first.
SELECT fix_at, received_at, ST_X(geom) AS lon, ST_Y(geom) AS lat, speed_kmh, acc_m
FROM positions
WHERE device_id = %(device_id)s
ORDER BY fix_at DESC
LIMIT %(limit)s
