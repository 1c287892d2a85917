-- Every camera's id and stream URL (never sent to a browser), in id order.
SELECT id, stream_url FROM cameras ORDER BY id
