SELECT id, unit_id FROM devices
