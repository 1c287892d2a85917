INSERT INTO device_events (device_id, unit_id, kind, reported_at, received_at, data)
VALUES (%s, %s, %s, %s, %s, %s::jsonb)
