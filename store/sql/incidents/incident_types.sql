SELECT id, default_priority, unit_kinds FROM incident_types ORDER BY id
