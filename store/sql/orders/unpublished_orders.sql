-- The outbox, with each order's incident status: an order whose incident was
-- cleared or closed before publication is withdrawn, not sent. The incident
-- row is share-locked so a close cannot commit between this read and the
-- publication (it waits for this transaction instead).
SELECT o.id, o.incident_id, o.unit_id, o.sent_at, o.eta_s, o.route_distance_m,
       i.status AS incident_status
FROM orders o JOIN incidents i ON i.id = o.incident_id
WHERE o.published_at IS NULL AND o.state <> 'cancelled'
ORDER BY o.sent_at
FOR UPDATE OF o SKIP LOCKED
FOR SHARE OF i
