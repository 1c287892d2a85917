-- Taken once, and only while open: a second taker, or a cleared alarm, gets no row.
UPDATE alarms SET taken_at = %(at)s, taken_by = %(by)s
WHERE id = %(id)s AND taken_at IS NULL AND cleared_at IS NULL
RETURNING id, kind, severity, incident_id, unit_id, order_id
