-- One camera's stream URL (may carry credentials: never sent to a browser).
SELECT stream_url FROM cameras WHERE id = %(camera_id)s
