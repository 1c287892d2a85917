-- Units en route whose latest fix, newer than their order, lies within
-- radius_m of their incident, or of the incident's nearest point on a car road
-- (an incident in a park or a courtyard is reached where the road ends):
-- arrived, whether or not they pressed the key.
SELECT o.id AS order_id, o.unit_id, o.incident_id, l.fix_at, ST_X(l.geom) AS lon,
       ST_Y(l.geom) AS lat
FROM orders o
JOIN incidents i ON i.id = o.incident_id
JOIN unit_latest l ON l.unit_id = o.unit_id
CROSS JOIN LATERAL (
    SELECT ST_ClosestPoint(e.geom, i.geom) AS kerb
    FROM road_edges e WHERE e.car ORDER BY e.geom <-> i.geom LIMIT 1
) AS road
WHERE o.state = 'enroute' AND l.fix_at > o.sent_at
  AND (ST_DWithin(l.geom::geography, i.geom::geography, %(radius_m)s)
       OR ST_DWithin(l.geom::geography, road.kerb::geography, %(radius_m)s))
