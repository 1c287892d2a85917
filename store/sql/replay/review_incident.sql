-- One incident for its report: type names, the beat it lies in, and the named
-- road nearest to it. KNN on SRID 4326 orders by degrees, so take a generous
-- candidate set by <-> and rank it by metres on the geography.
SELECT i.id, i.external_id, i.type, t.name_en, t.name_zh, i.priority, i.status,
       i.reported_at, i.created_at, i.created_by, i.source, i.notes,
       ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat,
       (SELECT b.name FROM beats b WHERE ST_Covers(b.geom, i.geom) ORDER BY b.id LIMIT 1) AS beat,
       road.name AS road, road.distance_m AS road_distance_m
FROM incidents i
JOIN incident_types t ON t.id = i.type
LEFT JOIN LATERAL (
    SELECT c.name, ST_Distance(c.geom::geography, i.geom::geography) AS distance_m
    FROM (SELECT r.name, r.geom FROM road_edges r WHERE r.name IS NOT NULL
          ORDER BY r.geom <-> i.geom LIMIT 20) c
    ORDER BY 2 LIMIT 1
) road ON true
WHERE i.id = %s
