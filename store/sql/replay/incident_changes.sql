-- The events of the given incidents up to t2 that can move their status,
-- oldest first, from their creation on (which may precede the window).
SELECT at, kind, incident_id, order_id
FROM events
WHERE incident_id = ANY(%(incident_ids)s::bigint[]) AND at <= %(t2)s
  AND kind IN ('created', 'dispatched', 'onscene', 'cleared', 'busy', 'cancelled', 'closed')
ORDER BY at, id
