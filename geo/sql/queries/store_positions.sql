-- History first; the latest-state upserts read only the rows really inserted,
-- newest per device / unit (an upsert batch must not hold two rows for one key),
-- and never move a marker back to an older fix. Returns the stage rows (n) that
-- were not inserted (their key was stored already, or by an earlier stage row:
-- the first copy wins): usually none, so nothing comes back to parse.
WITH inserted AS (
    INSERT INTO positions (device_id, unit_id, fix_at, received_at, geom, speed_kmh,
                           heading_deg, acc_m, alt_m, source)
    SELECT device_id, unit_id, fix_at, received_at, ST_SetSRID(ST_MakePoint(lon, lat), 4326),
           speed_kmh, heading_deg, acc_m, alt_m, source
    FROM position_stage
    -- In key order, as every upsert below: two workers writing the same keys
    -- (a redelivery, a shared subscription) wait for each other, never deadlock.
    ORDER BY device_id, fix_at, n
    ON CONFLICT (device_id, fix_at) DO NOTHING
    RETURNING *
), by_device AS (
    INSERT INTO device_latest AS d (device_id, unit_id, fix_at, received_at, geom, speed_kmh,
                                    heading_deg, acc_m, source)
    SELECT DISTINCT ON (device_id) device_id, unit_id, fix_at, received_at, geom, speed_kmh,
           heading_deg, acc_m, source
    FROM inserted ORDER BY device_id, fix_at DESC
    ON CONFLICT (device_id) DO UPDATE SET
        unit_id = excluded.unit_id, fix_at = excluded.fix_at, received_at = excluded.received_at,
        geom = excluded.geom, speed_kmh = excluded.speed_kmh, heading_deg = excluded.heading_deg,
        acc_m = excluded.acc_m, source = excluded.source
    WHERE excluded.fix_at > d.fix_at
), by_unit AS (
    INSERT INTO unit_latest AS u (unit_id, device_id, fix_at, received_at, geom, speed_kmh,
                                  heading_deg, acc_m, source)
    SELECT DISTINCT ON (unit_id) unit_id, device_id, fix_at, received_at, geom, speed_kmh,
           heading_deg, acc_m, source
    FROM inserted WHERE unit_id IS NOT NULL ORDER BY unit_id, fix_at DESC
    ON CONFLICT (unit_id) DO UPDATE SET
        device_id = excluded.device_id, fix_at = excluded.fix_at,
        received_at = excluded.received_at, geom = excluded.geom,
        speed_kmh = excluded.speed_kmh, heading_deg = excluded.heading_deg,
        acc_m = excluded.acc_m, source = excluded.source
    WHERE excluded.fix_at > u.fix_at
)
SELECT s.n FROM position_stage s
WHERE NOT EXISTS (SELECT FROM inserted i WHERE i.device_id = s.device_id AND i.fix_at = s.fix_at)
UNION ALL
SELECT n FROM (
    SELECT n, row_number() OVER (PARTITION BY device_id, fix_at ORDER BY n) AS k
    FROM position_stage
) repeats WHERE k > 1
