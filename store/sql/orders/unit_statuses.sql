SELECT id, status, status_since, status_reason FROM units ORDER BY id
