SELECT i.id, i.external_id, i.type, i.priority, i.status, i.version, i.reported_at,
       i.created_at, i.created_by, i.source, i.notes, ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat,
       (SELECT b.id FROM beats b WHERE ST_Covers(b.geom, i.geom) ORDER BY b.id LIMIT 1) AS beat
FROM incidents i WHERE i.id = %s
