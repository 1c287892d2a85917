SELECT u.id, u.name, u.role
FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.token_sha256 = %s AND s.revoked_at IS NULL AND s.expires_at > %s AND NOT u.disabled
