SELECT unit_id FROM devices WHERE id = %s
