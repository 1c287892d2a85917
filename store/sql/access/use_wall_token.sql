-- Whether the token is live; its last use is written at most once per
-- %(every_s)s seconds, since a wall asks on every refresh.
WITH hit AS (
    SELECT token_sha256, last_used_at FROM wall_tokens
    WHERE token_sha256 = %(hash)s AND revoked_at IS NULL
), touched AS (
    UPDATE wall_tokens w SET last_used_at = %(now)s
    FROM hit
    WHERE w.token_sha256 = hit.token_sha256
      AND (hit.last_used_at IS NULL
           OR hit.last_used_at < %(now)s - make_interval(secs => %(every_s)s))
    RETURNING 1
)
SELECT count(*) FROM hit
