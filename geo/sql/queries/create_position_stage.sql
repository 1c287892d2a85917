CREATE TEMP TABLE IF NOT EXISTS position_stage (
    n int4, device_id text, unit_id text, fix_at timestamptz, received_at timestamptz,
    lon float8, lat float8, speed_kmh real, heading_deg real, acc_m real, alt_m real,
    source text
) ON COMMIT DELETE ROWS
