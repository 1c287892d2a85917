SELECT count(*) FROM orders
WHERE incident_id = %s AND state IN ('sent', 'acknowledged', 'enroute', 'onscene')
