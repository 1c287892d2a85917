INSERT INTO users (name, role, password_hash) VALUES (%s, %s, %s)
ON CONFLICT (name) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash
