COPY quarantine (received_at, topic, device_id, payload, reason, detail) FROM STDIN
