INSERT INTO devices (id, unit_id, kind, format)
VALUES (%s, %s, %s, %s)
ON CONFLICT (id) DO UPDATE SET unit_id = excluded.unit_id, kind = excluded.kind,
    format = excluded.format
