UPDATE sessions SET revoked_at = %(now)s
WHERE user_id = %(user_id)s AND revoked_at IS NULL AND expires_at > %(now)s
