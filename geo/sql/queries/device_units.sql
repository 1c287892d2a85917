SELECT d.id, d.unit_id, u.kind FROM devices d LEFT JOIN units u ON u.id = d.unit_id
