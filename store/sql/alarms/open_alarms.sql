SELECT id, kind, severity, incident_id, unit_id, order_id, camera_id, raised_at, detail,
       taken_at, taken_by
FROM alarms WHERE cleared_at IS NULL ORDER BY severity, raised_at
