INSERT INTO wall_tokens (token_sha256, label, created_by) VALUES (%s, %s, %s)
RETURNING id
