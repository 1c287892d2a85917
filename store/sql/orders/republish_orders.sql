-- The incident's live orders go back into the outbox: the dispatcher sends
-- each again (same order id, the incident as it is now) as an order update.
UPDATE orders SET published_at = NULL
WHERE incident_id = %s AND state IN ('sent', 'acknowledged', 'enroute', 'onscene')
RETURNING id
