-- The latest end of a back-off still running for any of the keys, or NULL.
SELECT max(blocked_until)
FROM login_throttle
WHERE key = ANY(%(keys)s) AND blocked_until > %(now)s
