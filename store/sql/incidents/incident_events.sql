SELECT id, at, kind, actor, unit_id, order_id, data FROM events
WHERE incident_id = %s ORDER BY at, id
