-- Drop the counts no back-off needs any more: no failure for window_s seconds
-- and no back-off running (a key with none starts from zero anyway).
DELETE FROM login_throttle
WHERE last_failure_at < %(now)s - make_interval(secs => %(window_s)s)
  AND (blocked_until IS NULL OR blocked_until < %(now)s)
