-- The units with at least one fix inside the box from t1 to t2. Sargable on
-- both: the fix_at range prunes the day partitions (and can read their BRIN
-- index), and the && test reads each partition's GiST index on geom.
SELECT DISTINCT unit_id
FROM positions
WHERE fix_at BETWEEN %(t1)s AND %(t2)s
  AND geom && ST_MakeEnvelope(%(min_lon)s, %(min_lat)s, %(max_lon)s, %(max_lat)s, 4326)
  AND unit_id IS NOT NULL
