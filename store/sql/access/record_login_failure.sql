-- Count one failed sign-in for a key (the count restarts after window_s
-- seconds without a failure). Past free_failures each failure blocks the key
-- for base_s * 2^(failures - free_failures - 1) seconds, at most max_s.
-- Returns the key's failures and its back-off end (NULL while free).
INSERT INTO login_throttle AS t (key, failures, last_failure_at, blocked_until)
VALUES (%(key)s, 1, %(now)s,
        CASE WHEN %(free_failures)s < 1 THEN %(now)s + make_interval(secs => %(base_s)s) END)
ON CONFLICT (key) DO UPDATE SET
    failures = CASE
        WHEN t.last_failure_at < %(now)s - make_interval(secs => %(window_s)s) THEN 1
        ELSE t.failures + 1 END,
    last_failure_at = %(now)s,
    blocked_until = (
        SELECT CASE WHEN n > %(free_failures)s THEN %(now)s + make_interval(
            secs => least(%(max_s)s, %(base_s)s * power(2, least(n - %(free_failures)s - 1, 30))))
        END
        FROM (SELECT CASE
            WHEN t.last_failure_at < %(now)s - make_interval(secs => %(window_s)s) THEN 1
            ELSE t.failures + 1 END AS n) AS counted
    )
RETURNING failures, blocked_until
