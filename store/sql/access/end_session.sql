UPDATE sessions SET revoked_at = %s WHERE token_sha256 = %s
