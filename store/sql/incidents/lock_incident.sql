SELECT id, status, version FROM incidents WHERE id = %s FOR UPDATE
