SELECT id, name, role, password_hash FROM users WHERE name = %s AND NOT disabled
