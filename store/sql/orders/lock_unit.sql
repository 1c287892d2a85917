SELECT id, status FROM units WHERE id = %s FOR UPDATE
