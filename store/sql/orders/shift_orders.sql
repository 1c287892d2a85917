-- Orders sent in [%(since)s, %(until)s), oldest first, with their incident's
-- priority and the seconds from sent to acknowledged (an en-route key signs
-- too; NULL while not yet), for the wall's charts of the shift.
SELECT o.id, o.incident_id, i.priority, o.unit_id, o.sent_at,
       extract(epoch FROM (SELECT min(e.at) FROM events e
                           WHERE e.order_id = o.id AND e.kind IN ('acknowledged', 'enroute'))
               - o.sent_at)::float8 AS ack_s
FROM orders o JOIN incidents i ON i.id = o.incident_id
WHERE o.sent_at >= %(since)s AND o.sent_at < %(until)s
ORDER BY o.sent_at
