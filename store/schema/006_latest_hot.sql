-- The latest-state tables are rewritten on every batch (one row per device and
-- per unit). An index on a column that changes with every fix (geom, fix_at)
-- makes each update a new tuple plus an entry in every index; without them,
-- and with room left on each page, PostgreSQL updates in place (HOT), which
-- nearly halved the cost of a 2,000-row batch (bench/ingest.py copy_ceiling).
-- No query searches these tables by place or time: they hold one row per
-- device or unit, read whole or by key.
DROP INDEX device_latest_geom_idx;
DROP INDEX unit_latest_geom_idx;
DROP INDEX unit_latest_fix_at_idx;
ALTER TABLE device_latest SET (fillfactor = 50);
ALTER TABLE unit_latest SET (fillfactor = 50);
