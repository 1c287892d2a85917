-- Messages the ingest accounted for in the window, how many it refused, and
-- how many of those came on a topic no feed reads (no device to blame).
SELECT (SELECT count(*) FROM positions
        WHERE received_at > %(since)s AND received_at <= %(now)s AND fix_at > %(fix_since)s)
     + (SELECT count(*) FROM device_events
        WHERE received_at > %(since)s AND received_at <= %(now)s)
     + q.n AS messages_n,
       q.n AS rejected_n,
       q.unrouted_n
FROM (SELECT count(*) AS n, count(*) FILTER (WHERE device_id IS NULL) AS unrouted_n
      FROM quarantine WHERE received_at > %(since)s AND received_at <= %(now)s) AS q
