-- Open the camera's dark alarm (once); returns its id when newly opened.
INSERT INTO alarms (kind, severity, camera_id, raised_at, detail)
VALUES (%(kind)s, %(severity)s, %(camera_id)s, %(at)s, %(detail)s)
ON CONFLICT DO NOTHING
RETURNING id
