-- Every camera's last health verdict (cameras never checked: status NULL).
SELECT c.id AS camera_id, c.name, h.status, h.detail, h.checked_at, h.changed_at
FROM cameras c LEFT JOIN camera_health h ON h.camera_id = c.id
ORDER BY c.id
