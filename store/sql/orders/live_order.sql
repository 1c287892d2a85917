SELECT o.id, o.incident_id, o.state FROM orders o
WHERE o.unit_id = %s AND o.state IN ('sent', 'acknowledged', 'enroute', 'onscene')
