UPDATE units SET status = %(status)s, status_since = %(at)s, status_reason = %(reason)s
WHERE id = %(id)s
