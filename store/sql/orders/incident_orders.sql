SELECT o.id, o.unit_id, u.call_sign, o.state, o.sent_at, o.sent_by, o.eta_s, o.published_at,
       o.suggested_rank
FROM orders o JOIN units u ON u.id = o.unit_id
WHERE o.incident_id = %s ORDER BY o.sent_at
