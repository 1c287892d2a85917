INSERT INTO position_raw_coords (device_id, fix_at, coords, raw_lon, raw_lat)
VALUES (%s, %s, 'gcj02', %s, %s)
ON CONFLICT (device_id, fix_at) DO NOTHING
