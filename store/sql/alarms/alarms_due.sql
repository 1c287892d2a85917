-- Every alarm that should be open at %(now)s, by the configured thresholds.
SELECT 'unacknowledged' AS kind, 2 AS severity, o.incident_id, o.unit_id, o.id AS order_id,
       format('order not acknowledged after %%s s', round(extract(epoch FROM %(now)s - o.sent_at))) AS detail
FROM orders o
WHERE o.state = 'sent' AND %(now)s - o.sent_at > make_interval(secs => %(ack_s)s)
UNION ALL
SELECT 'not_enroute', 2, o.incident_id, o.unit_id, o.id,
       format('not en route after %%s s', round(extract(epoch FROM %(now)s - o.sent_at)))
FROM orders o
WHERE o.state IN ('sent', 'acknowledged') AND %(now)s - o.sent_at > make_interval(secs => %(enroute_s)s)
UNION ALL
SELECT 'not_onscene', 2, o.incident_id, o.unit_id, o.id,
       format('P%%s incident not reached after %%s s', i.priority,
              round(extract(epoch FROM %(now)s - i.created_at)))
FROM orders o JOIN incidents i ON i.id = o.incident_id
WHERE o.state IN ('sent', 'acknowledged', 'enroute')
  AND %(now)s - i.created_at > make_interval(secs => CASE WHEN i.priority <= 2
                                   THEN %(onscene_p12_s)s ELSE %(onscene_p34_s)s END)
UNION ALL
SELECT 'feedback_overdue', 3, o.incident_id, o.unit_id, o.id, 'feedback overdue'
FROM orders o
WHERE o.state = 'onscene'
  AND %(now)s - (SELECT max(e.at) FROM events e WHERE e.order_id = o.id AND e.kind = 'onscene')
      > make_interval(secs => %(feedback_s)s)
UNION ALL
SELECT 'incident_waiting', CASE WHEN i.priority = 1 THEN 1 ELSE 2 END, i.id, NULL, NULL,
       format('P%%s waiting %%s s for a unit', i.priority,
              round(extract(epoch FROM %(now)s - i.created_at)))
FROM incidents i
WHERE i.status = 'open' AND %(now)s - i.created_at > make_interval(secs => CASE WHEN i.priority <= 2
                                   THEN %(queue_p12_s)s ELSE %(queue_p34_s)s END)
UNION ALL
SELECT 'welfare', 2, NULL, u.id, NULL,
       format('busy for %%s min%%s', floor(extract(epoch FROM %(now)s - u.status_since) / 60),
              coalesce(' (' || u.status_reason || ')', ''))
FROM units u
WHERE u.status = 'busy' AND %(welfare_busy_s)s > 0
  AND %(now)s - u.status_since > make_interval(secs => %(welfare_busy_s)s)
