-- The response clock of one incident (the columns of response_clock.sql).
SELECT c.incident_id, c.priority, i.type, c.created_at, c.first_dispatched_at,
       c.first_acknowledged_at, c.first_enroute_at, c.first_onscene_at, c.last_cleared_at,
       c.closed_at
FROM incident_clock c JOIN incidents i ON i.id = c.incident_id
WHERE c.incident_id = %s
