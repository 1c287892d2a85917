SELECT o.id, o.incident_id, o.unit_id, o.sent_at, o.eta_s, o.route_distance_m
FROM orders o WHERE o.published_at IS NULL ORDER BY o.sent_at
FOR UPDATE SKIP LOCKED
