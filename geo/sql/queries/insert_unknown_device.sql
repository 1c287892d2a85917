INSERT INTO devices (id, unit_id, kind, format, first_seen_at)
VALUES (%s, NULL, 'unknown', %s, now())
ON CONFLICT (id) DO NOTHING
