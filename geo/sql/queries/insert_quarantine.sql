INSERT INTO quarantine (received_at, topic, device_id, payload, reason, detail)
VALUES (%s, %s, %s, %s, %s, %s)
