UPDATE users SET role = %(role)s WHERE name = %(name)s RETURNING id
