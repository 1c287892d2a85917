-- Point a camera at another stream (the demo's simulated cameras).
UPDATE cameras SET stream_url = %(url)s WHERE id = %(camera_id)s
