SELECT id FROM incidents WHERE external_id = %s
