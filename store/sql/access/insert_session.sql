INSERT INTO sessions (token_sha256, user_id, created_at, expires_at) VALUES (%s, %s, %s, %s)
