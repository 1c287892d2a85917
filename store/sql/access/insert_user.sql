INSERT INTO users (name, role, password_hash) VALUES (%s, %s, %s)
ON CONFLICT (name) DO NOTHING
RETURNING id
