INSERT INTO alarms (kind, severity, incident_id, unit_id, order_id, raised_at, detail)
VALUES (%s, %s, %s, %s, %s, %s, %s)
ON CONFLICT DO NOTHING
RETURNING id
