-- Closes an incident once, with how it ended (both NULL when the system
-- closes it, e.g. in tests or a withdrawal); a closed one is left as it is.
UPDATE incidents SET status = 'closed', disposition = %(disposition)s, result = %(result)s
WHERE id = %(id)s AND status <> 'closed'
RETURNING id
