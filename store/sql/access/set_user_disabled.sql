UPDATE users SET disabled = %(disabled)s WHERE name = %(name)s RETURNING id
