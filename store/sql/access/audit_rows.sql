-- The newest audit rows, optionally of one actor and/or one action.
SELECT id, at, actor, action, ok, ip, detail
FROM audit_log
WHERE (%(actor)s::text IS NULL OR actor = %(actor)s)
  AND (%(action)s::text IS NULL OR action = %(action)s)
ORDER BY id DESC
LIMIT %(limit)s
