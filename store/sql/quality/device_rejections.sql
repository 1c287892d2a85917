-- A device's newest quarantined messages, whole, with their reasons.
SELECT id, received_at, topic, reason, detail, payload
FROM quarantine
WHERE device_id = %(device_id)s
ORDER BY received_at DESC, id DESC
LIMIT %(limit)s
