SELECT i.id, i.priority, i.status, i.created_at, t.name_en
FROM incidents i JOIN incident_types t ON t.id = i.type
ORDER BY i.created_at DESC, i.id DESC LIMIT %s
