-- The stored position of each (device, fix time) asked for, to tell a repeated
-- fix from a different one with the same time.
SELECT p.device_id, p.fix_at, ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat
FROM positions p
JOIN unnest(%s::text[], %s::timestamptz[]) AS k (device_id, fix_at)
  ON p.device_id = k.device_id AND p.fix_at = k.fix_at
