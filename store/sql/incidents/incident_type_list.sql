SELECT id, name_en, name_zh, default_priority FROM incident_types ORDER BY default_priority, id
