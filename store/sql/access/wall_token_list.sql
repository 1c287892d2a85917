SELECT id, label, created_by, created_at, last_used_at, revoked_at
FROM wall_tokens
ORDER BY revoked_at IS NOT NULL, created_at DESC
