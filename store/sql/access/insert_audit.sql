INSERT INTO audit_log (actor, action, ok, ip, detail) VALUES (%s, %s, %s, %s, %s::jsonb)
