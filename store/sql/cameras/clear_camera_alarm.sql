-- Clear the camera's open alarm of this kind; returns its id when one was open.
UPDATE alarms SET cleared_at = %(at)s
WHERE kind = %(kind)s AND camera_id = %(camera_id)s AND cleared_at IS NULL
RETURNING id
