UPDATE users SET password_hash = %(hash)s WHERE name = %(name)s RETURNING id
