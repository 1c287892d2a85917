-- Store a camera's verdict; changed_at moves only when the status changes.
-- Returns the status it had before (NULL: first check).
WITH before AS (SELECT status FROM camera_health WHERE camera_id = %(camera_id)s)
INSERT INTO camera_health AS h (camera_id, status, detail, checked_at, changed_at)
VALUES (%(camera_id)s, %(status)s, %(detail)s, %(at)s, %(at)s)
ON CONFLICT (camera_id) DO UPDATE
SET status = excluded.status, detail = excluded.detail, checked_at = excluded.checked_at,
    changed_at = CASE WHEN h.status = excluded.status THEN h.changed_at ELSE excluded.checked_at END
RETURNING (SELECT status FROM before) AS previous
