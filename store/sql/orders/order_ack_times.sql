-- Seconds from each order sent to its acknowledgement (NULL if never).
SELECT o.id, o.incident_id, o.sent_at,
       extract(epoch FROM (SELECT min(e.at) FROM events e
                           WHERE e.order_id = o.id AND e.kind IN ('acknowledged', 'enroute'))
               - o.sent_at)::float8 AS ack_s
FROM orders o
WHERE o.sent_at >= %(since)s AND o.sent_at < %(until)s
ORDER BY o.sent_at
